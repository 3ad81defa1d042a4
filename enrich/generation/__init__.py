"""Text-to-image generation for records without images (issue 7, item 3): prompts from the record's English
text, a diffusers pipeline chosen by model card, content-addressed PNGs under the data directory, and a
synthetic ``edm:WebResource`` in the record's suggestions graph (never the object's own image).

Importing this package loads no model library.
"""
