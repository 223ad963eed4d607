"""Natural-language understanding: what a customer's message asks for, and what it contains.

model = NluModel.from_directory()          # trains on intents/nlu/*.yml in well under a second
result = model.parse("hi, how much do I owe?")
result.intent, result.confidence           # ("balance", 0.8…)
"""

from bot.nlu.entities import extract_entities
from bot.nlu.evaluate import EvalReport, IntentScores, evaluate
from bot.nlu.model import NluModel, default_data_directory
from bot.nlu.normalize import normalize
from bot.nlu.training import load_training_data
from bot.nlu.types import ENTITY_KINDS, INTENTS, OUT_OF_SCOPE, Entity, ParseResult

__all__ = [
    "ENTITY_KINDS",
    "INTENTS",
    "OUT_OF_SCOPE",
    "Entity",
    "EvalReport",
    "IntentScores",
    "NluModel",
    "ParseResult",
    "default_data_directory",
    "evaluate",
    "extract_entities",
    "load_training_data",
    "normalize",
]
