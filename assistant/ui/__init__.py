"""The Gradio chat UI (`assistant serve`)."""
