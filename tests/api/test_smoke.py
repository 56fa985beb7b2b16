import pytest


@pytest.mark.django_db
def test_provider_submits_a_valid_tar_and_sees_its_clock(api, tar_payload):
    response = api("provider").post("/api/v1/tars/", tar_payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("TAR-")
    assert body["status"] == "submitted"
    assert body["channel"] == "api"
    assert body["decision_due_rule"] == "routine_7_calendar_days"
    assert body["lines"][0]["recommendation"] == "meets_criteria"
    assert body["evaluation"][0]["criteria_set"] == "esi"
