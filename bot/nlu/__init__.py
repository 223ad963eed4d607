"""Natural-language understanding: what a customer's message asks for, and what it contains.

model = NluModel.from_registry(registry)   # trains on each intent's file in well under a second
result = model.parse("hi, how much do I owe?")
result.intent, result.confidence           # ("balance", 0.8…)

billbot builds its model in the composition root (`bot.bootstrap.build_nlu`), from the intent
registry: the registry's names are the model's labels.
"""

from bot.nlu.entities import extract_entities
from bot.nlu.evaluate import EvalReport, IntentScores, evaluate
from bot.nlu.model import NluModel
from bot.nlu.normalize import normalize
from bot.nlu.training import load_labelled_files, load_training_data
from bot.nlu.types import ENTITY_KINDS, OUT_OF_SCOPE, Entity, ParseResult

__all__ = [
    "ENTITY_KINDS",
    "OUT_OF_SCOPE",
    "Entity",
    "EvalReport",
    "IntentScores",
    "NluModel",
    "ParseResult",
    "evaluate",
    "extract_entities",
    "load_labelled_files",
    "load_training_data",
    "normalize",
]
