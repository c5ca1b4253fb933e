"""The kinds of publication that come with publish. Others are found through the entry point
group publish.kinds (:mod:`publish.core.kind`)."""

# name -> "module:attribute" of its Kind, imported only when a project uses it
BUILTIN = {
    "ocindex": "publish.kinds.ocindex:KIND",
    "book": "publish.kinds.book:KIND",
}
