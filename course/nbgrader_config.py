"""nbgrader configuration of the ResNets course (run nbgrader from this folder)."""

from pathlib import Path

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "resnets"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)

# What replaces each ### BEGIN SOLUTION ... ### END SOLUTION region in the release.
# The hint above it ("## Second component (≈3 lines)") stays; the stub marks the step.
c.ClearSolutions.code_stub = {"python": "raise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A whole ResNet-50 notebook in grading mode takes well under a minute on 2 cores;
# the limits only stop a submission that loops.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
# Once the last cell has run, stop the kernel at once: a graceful shutdown waits about 3 s
# for TensorFlow to tear down, and grading needs nothing from the kernel's exit.
c.Execute.shutdown_kernel = "immediate"
