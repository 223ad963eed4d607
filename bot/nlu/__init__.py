"""Natural-language understanding: what a customer's message asks for, and what it contains.

model = NluModel.from_registry(registry)   # trains on each intent's file in well under a second
result = model.parse("hi, how much do I owe?")
result.intent, result.confidence           # ("balance", 0.8…)

billbot builds its model in the composition root (`bot.bootstrap.build_nlu`), from the intent
registry: the registry's names are the model's labels.
"""

from bot.nlu.crossval import CrossValidation, cross_validate
from bot.nlu.entities import extract_entities
from bot.nlu.evaluate import EvalReport, IntentScores, Labelled, Prediction, evaluate
from bot.nlu.model import NluModel
from bot.nlu.normalize import normalize
from bot.nlu.training import load_labelled_files, load_training_data
from bot.nlu.types import CLOSE_CALL_MARGIN, ENTITY_KINDS, OUT_OF_SCOPE, Entity, ParseResult

__all__ = [
    "CLOSE_CALL_MARGIN",
    "ENTITY_KINDS",
    "OUT_OF_SCOPE",
    "CrossValidation",
    "Entity",
    "EvalReport",
    "IntentScores",
    "Labelled",
    "NluModel",
    "ParseResult",
    "Prediction",
    "cross_validate",
    "evaluate",
    "extract_entities",
    "load_labelled_files",
    "load_training_data",
    "normalize",
]
