"""Facet classifiers (DESIGN §6, ``classify``): heads over fused image and text embeddings, trained from the
concepts records already carry, calibrated, evaluated with EUFCC-340K's metrics beside a TF-IDF baseline.

Modules, in the order the data flows:

- :mod:`.dataset`, :mod:`.splits` — labelled examples per facet read from the store, label spaces, and
  in-domain and provider-held-out splits;
- :mod:`.features` — what a head reads: a feature provider (record ids → one matrix per modality);
- :mod:`.hierarchy` — tree-consistent scores (a concept never outscores its ancestors);
- :mod:`.heads`, :mod:`.train` — concatenation and cross-attention fusion heads, training with early stopping;
- :mod:`.calibrate`, :mod:`.metrics` — temperature or isotonic calibration, ECE, R-Precision, Acc@k, …;
- :mod:`.baseline`, :mod:`.ensemble` — TF-IDF + logistic regression, and weighted ensembles;
- :mod:`.artefact` — trained heads saved and loaded as versioned artefacts with their own card;
- :mod:`.evaluate`, :mod:`.report`, :mod:`.enricher`, :mod:`.commands` — ``enrich evaluate``, its plots, the
  ``classify`` enricher and the ``enrich train|evaluate`` commands.

Only :mod:`.commands` is imported by the CLI; everything that needs torch, numpy or scikit-learn imports it
inside, so ``enrich --help`` and the API start without them.
"""
