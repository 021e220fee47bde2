import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def home(chaoslab_home):
    """The command-line tests' cluster home (chaoslab.testing's fixture: stopped and leak-checked after)."""
    return chaoslab_home
