"""The FastAPI application (SPARQL, REST, OAI-PMH, reviewer page) arrives with the serving issue."""
