"""The evaluation suite: gold questions -> the Assistant -> per-question records -> metrics -> report.

Callable from Python (`run_eval(assistant, load_questions(path))`) and as `assistant eval`.
"""

from assistant.evaluation.metrics import compute_metrics
from assistant.evaluation.questions import Question, QuestionFileError, load_questions
from assistant.evaluation.runner import run_eval

__all__ = ["Question", "QuestionFileError", "compute_metrics", "load_questions", "run_eval"]
