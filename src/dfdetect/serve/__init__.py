"""``dfdetect serve``: an HTTP API and a web page that score an uploaded image, video or clip.

The layer above :mod:`dfdetect.inference` (like the CLI): :mod:`~dfdetect.serve.engine` scores a
file with the same scorer, face cropper and audio windowing as ``predict``;
:mod:`~dfdetect.serve.upload` streams a multipart upload into a temporary folder with a size
limit; :mod:`~dfdetect.serve.app` is the FastAPI application (``create_app(cfg)``);
:mod:`~dfdetect.serve.server` runs it with uvicorn. The page lives in ``static/``.
"""
