"""nbgrader configuration of the course (read by every `nbgrader` command run from this folder).

solutions/<assignment>/<notebook>.ipynb  instructor source (solutions and hidden tests)
exercises/<assignment>/<notebook>.ipynb  release, made by `nbgrader generate_assignment`
gradebook.db, submitted/, autograded/, feedback/  grading state, git-ignored

Autograding runs the judge (README "What grading defends against"): student code in a
bubblewrap sandbox, tests decided in this process. Its limits are set here.
"""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds,
                                    IgnorePattern, LimitOutput, OverwriteCells, OverwriteKernelspec,
                                    SaveAutoGrades)

from tconv_lib.grading.judge import feedback
from tconv_lib.grading.judge.execute import SandboxedExecute
from tconv_lib.grading.judge.sanitize import DropForgedMetadata

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "tconv"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# A deleted test cell comes back (and is run by the judge), so deleting a test never helps; nbgrader
# metadata on a cell the instructor's notebook does not have is dropped first.
c.OverwriteCells.add_missing_cells = True
c.Autograde.sanitize_preprocessors = [
    DropForgedMetadata,
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]

# nbgrader's own pipeline, with its Execute (a kernel running student code beside the tests)
# replaced by the judge.
c.Autograde.autograde_preprocessors = [
    SandboxedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# Feedback is HTML made from what students wrote: their Markdown and outputs are sanitized, so
# that no script of theirs runs in the browser of whoever opens it (judge/feedback.py).
c.HTMLExporter.template_name = "tconv_feedback"
c.HTMLExporter.template_file = "clean.html.j2"
c.HTMLExporter.extra_template_basedirs = [str(feedback.NBGRADER_TEMPLATES), str(feedback.TEMPLATES)]
c.HTMLExporter.filters = {"tconv_clean_html": "tconv_lib.grading.judge.feedback.clean_html"}
c.HTMLExporter.sanitize_html = True

# The sandbox's limits (these are the defaults; see README "What grading defends against").
c.SandboxedExecute.memory_mb = 2048        # address space of each process, and memory of them all (root)
c.SandboxedExecute.processes = 64          # processes and threads
c.SandboxedExecute.file_mb = 64            # largest file written; size of /scratch and /tmp
c.SandboxedExecute.cell_output_kb = 1024   # outputs kept per cell (text and images)
c.SandboxedExecute.notebook_output_kb = 5120
c.SandboxedExecute.notebook_s = 300        # wall clock for the whole notebook
c.SandboxedExecute.cell_s = 120            # wall clock for one student cell
c.SandboxedExecute.call_s = 5              # wall clock for one call of a student's function
# Where no sandbox can be made (not Linux, no bubblewrap), autograde refuses unless this is True;
# then every feedback says the notebook was graded without one.
c.SandboxedExecute.allow_unsandboxed = False
