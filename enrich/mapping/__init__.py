"""Mappings between other data models or formats and EDM; each module documents its own."""
