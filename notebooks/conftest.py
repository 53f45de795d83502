"""pytest settings for running the notebooks through nbval."""
from nbval.plugin import IPyNbCell

# nbval waits a hard-coded 5 s for each output message after a cell has finished
# (nbval issues #136 and #231). On a busy 2-core CI machine the kernel can lag longer than
# that after a training cell, and the notebook fails although nothing is wrong with it.
OUTPUT_TIMEOUT_SECONDS = 120


def pytest_collection_modifyitems(items):
    for item in items:
        if isinstance(item, IPyNbCell):
            item.output_timeout = OUTPUT_TIMEOUT_SECONDS
