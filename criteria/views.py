"""Public criteria pages: H&S Code 1363.5 requires the criteria to be disclosed to the public
on request, so these pages need no login and print cleanly."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from criteria.models import CriteriaSet
from criteria.services import current_criteria_sets


def criteria_index(request: HttpRequest) -> HttpResponse:
    return render(request, "criteria/index.html", {"sets": current_criteria_sets()})


def criteria_detail(request: HttpRequest, set_id: str, version: str) -> HttpResponse:
    criteria_set = CriteriaSet.objects.filter(set_id=set_id, version=version).first()
    if criteria_set is None:
        raise Http404("No such criteria set.")
    language = "es" if request.GET.get("lang") == "es" else "en"
    criteria = [
        {
            "number": c["number"],
            "text": (c.get("text_es") or c["text"]) if language == "es" else c["text"],
        }
        for c in criteria_set.criteria
    ]
    disclosure = criteria_set.definition.get("disclosure") or {}
    if isinstance(disclosure, dict):
        disclosure = disclosure.get(language) or disclosure.get("en", "")
    return render(
        request,
        "criteria/detail.html",
        {
            "set": criteria_set,
            "criteria": criteria,
            "disclosure": disclosure,
            "language": language,
        },
    )
