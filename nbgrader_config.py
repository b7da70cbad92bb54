"""nbgrader configuration of the course (read by every `nbgrader` command run from this folder).

solutions/<assignment>/<notebook>.ipynb  instructor source (solutions and hidden tests)
exercises/<assignment>/<notebook>.ipynb  release, made by `nbgrader generate_assignment`
gradebook.db, submitted/, autograded/, feedback/  grading state, git-ignored
"""
import os

from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells,
                                    OverwriteKernelspec)

from tconv_lib.grading.preprocessor import StaticIntegrityCheck

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "tconv"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Every notebook runs on the course kernel, whatever a submission's metadata says
# (OverwriteKernelspec also restores the metadata from the gradebook).
c.Execute.kernel_name = "tconv"
# Backstop behind the per-call time limit of the grading helpers: a cell stuck in C code is
# interrupted after this many seconds and the remaining cells are still run and graded.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# Static integrity check of every student cell, after OverwriteCells has restored the locked ones.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    StaticIntegrityCheck,
    CheckCellMetadata,
]
