"""Statuses as data (domain/statuses.py): the same words as the sheet's lists, and a lifecycle that holds together."""

import pytest

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.statuses import (
    MEETING_MEANINGS,
    MeetingStatus,
    PartnershipStatus,
    RecordStatus,
    RequestStatus,
    meeting_status,
    meeting_statuses,
)

LISTS = default_schema().lists


@pytest.mark.parametrize("enum, list_name", [(MeetingStatus, "statuts_rencontre"), (RecordStatus, "statuts_fiche"),
                                             (RequestStatus, "statuts_demande"),
                                             (PartnershipStatus, "statuts_partenariat")])
def test_each_status_enum_is_its_list_in_lists_yaml(enum, list_name):
    assert [s.value for s in enum] == list(LISTS[list_name])


def test_every_meeting_status_has_a_meaning_and_moves_only_to_known_statuses():
    assert set(MEETING_MEANINGS) == set(MeetingStatus)
    for status in MeetingStatus:
        assert set(status.means.next) <= set(MeetingStatus), status


def test_every_open_status_is_reachable_from_a_proposal_and_closed_ones_are_final():
    reached, frontier = {MeetingStatus.PROPOSED}, [MeetingStatus.PROPOSED]
    while frontier:
        for following in frontier.pop().means.next:
            if following not in reached:
                reached.add(following)
                frontier.append(following)
    assert reached == set(MeetingStatus)
    for status in MeetingStatus:
        if not status.means.open:
            assert status.means.next == () and status.means.needs_reason and status.means.verb, status


def test_meanings_nest_as_the_programme_counts_them():
    held, accepted, ahead = (set(meeting_statuses(m)) for m in ("held", "accepted", "ahead"))
    assert set(meeting_statuses("concluded")) <= held <= accepted <= set(meeting_statuses("open"))
    assert not held & ahead
    assert held == {"réalisée", "bilan saisi"}
    assert set(meeting_statuses("accepted")) == {"acceptée", "planifiée", "réalisée", "bilan saisi"}
    assert ahead == {"proposée", "acceptée", "planifiée"}


def test_a_cell_reads_as_its_status_an_empty_one_as_the_default_and_a_typo_as_none():
    assert meeting_status(" réalisée ") is MeetingStatus.DONE
    assert meeting_status("") is MeetingStatus.PROPOSED
    assert meeting_status("realisee") is None


def test_only_a_validated_record_is_active_and_only_received_or_ongoing_requests_are_open():
    assert [s for s in RecordStatus if s.active] == [RecordStatus.VALIDATED]
    assert [s for s in RequestStatus if s.open] == [RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS]
    assert sorted(PartnershipStatus, key=lambda s: s.rank)[0] is PartnershipStatus.ACTIVE
