"""The media-watch pipeline: fetch, parse, canonicalise, (later) extract, detect language,
deduplicate. Pure Python: nothing here imports Django (checked by import-linter), so the
Django side maps these results to models and the pieces get fast plain tests."""
