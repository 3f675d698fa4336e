"""HTTP adapters: FastAPI app, JSON API, pages."""
