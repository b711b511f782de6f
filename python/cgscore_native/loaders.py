"""``cgscore_native.loaders`` for old imports: the module is now ``cgscore_native.app.loaders``."""

from .app.loaders import (
    EMBEDDED,
    IMAGE_SUFFIXES,
    SCORE_COLUMNS,
    TABLE_SUFFIXES,
    DataFileError,
    Dataset,
    from_torch,
    load,
    load_embedded,
    load_image_folder,
    load_labels,
    load_npz,
    load_table,
    read_scores,
)

__all__ = [
    "DataFileError",
    "Dataset",
    "EMBEDDED",
    "IMAGE_SUFFIXES",
    "SCORE_COLUMNS",
    "TABLE_SUFFIXES",
    "from_torch",
    "load",
    "load_embedded",
    "load_image_folder",
    "load_labels",
    "load_npz",
    "load_table",
    "read_scores",
]
