"""Float-vs-int8 accuracy on a class-per-folder data set."""
