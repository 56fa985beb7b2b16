"""Output serializers whose fields are built once per class, not on every instance (issue 16).

DRF's ModelSerializer builds each field from the model's metadata (field mapping, kwargs,
validators) every time a serializer is instantiated: for the TAR detail, about half of the
time its `.data` took. The fields depend only on the class (its Meta and declared fields), so
the first instance's are kept as a prototype and every later instance gets a deep copy, the
same copy DRF already makes of declared fields. Not for a serializer whose fields depend on
its context or instance (none here overrides `get_fields` that way)."""

from __future__ import annotations

import copy
import threading
from typing import Any

from rest_framework import serializers

_prototypes: dict[type, dict[str, Any]] = {}
_lock = threading.Lock()


class PrebuiltFieldsMixin:
    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        prototype = _prototypes.get(cls)
        if prototype is None:
            prototype = super().get_fields()  # type: ignore[misc]
            with _lock:
                _prototypes.setdefault(cls, prototype)
        return copy.deepcopy(prototype)


class PrebuiltModelSerializer(PrebuiltFieldsMixin, serializers.ModelSerializer):
    """A ModelSerializer with its fields built once per class (see the module)."""
