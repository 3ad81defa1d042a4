"""Model cards and the encoders they load (DESIGN §6). Importing the package loads no model library."""
