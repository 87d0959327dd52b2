"""Converters from published layouts to blackbox files, one module per family.

Every converter module exposes:

* ``FAMILY: str`` — the family name, also the folder of its blackboxes
  (``blackboxes/<FAMILY>/<dataset>.h5``);
* ``VERSION: str`` — converter version, recorded in each blackbox's provenance;
* ``datasets() -> list[str]`` — the datasets (YAHPO: instances) of the family;
* ``inputs(dataset) -> list[str]`` — catalogue paths of the raw files the conversion reads,
  relative to the mirror layout (e.g. ``"fcnet/naval_propulsion.pkl"``);
* ``convert(dataset, files) -> blackbox`` — ``files`` maps each of ``inputs(dataset)`` to a
  checksum-verified local path; the result has ``save(path)`` writing one HDF5 file.
"""
