"""nbgrader configuration of the ResNets course (run nbgrader from this folder)."""

from pathlib import Path

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "resnets"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)
