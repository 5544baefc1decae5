"""exorag's chat UI (Gradio): ``ui.app.build_app(settings)`` and ``ui.app.serve(settings, host, port)``.

Imported lazily by ``exorag serve`` so that the other commands never load Gradio.
"""
