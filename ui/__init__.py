"""ui: the `briefing` command line and the Gradio web app; views over the library."""
