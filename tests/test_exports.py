import qa


def test_public_names_are_exactly_these():
    assert sorted(qa.__all__) == sorted([
        "retrieve", "Index", "Document", "Hit", "Answer",
        "QAError", "InputError", "IndexFileError", "ModelError"])
    for name in qa.__all__:
        assert getattr(qa, name) is not None


def test_errors_share_one_base():
    for name in ("InputError", "IndexFileError", "ModelError"):
        assert issubclass(getattr(qa, name), qa.QAError)
