"""The web layer: FastAPI app factory, web-chat API, pay and invoice pages, health probes."""
