"""Lead and touchpoint imports: validation at the edge, all-or-nothing, quarantine, history, first touch."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from closedloop.accounts.models import Account
from closedloop.audit.models import AuditLog
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Campaign, Touchpoint
from closedloop.quarantine.models import ImportJob, QuarantinedRecord
from closedloop.users.actor import Actor

IMPORTER = Actor(user_id=None, role="admin", via="import")

HEADER = ["external_id", "email", "phone", "first_name", "company", "company_tax_id", "created_at", "mql_at",
          "sql_at", "utm_source", "utm_medium", "utm_campaign", "tags", "company_size", "owner_email", "colour"]  # fmt: skip
GOOD = [
    ["L1", " Alice@Example.com ", "0912-345-678", "Alice", "Acme 股份有限公司", "12345678", "114/03/05 上午 9:05",
     "2025-03-06 10:00", "", "google", "cpc", "Spring", "vip;b2b", "51-200", "nobody@example.com", "blue"],
    ["L2", "bob@gmail.com", "", "Bob", "ACME", "", "2025-03-07", "", "2025-03-09", "", "", "", "", "120", "", ""],
]  # fmt: skip
BAD = ["L3", "not-an-email", "", "Carl", "", "", "", "2025-13-01", "", "", "", "", "", "lots", "", ""]


def test_all_or_nothing_names_every_bad_cell(store, run_file, csv_file) -> None:
    path = csv_file("leads.csv", [HEADER, *GOOD, BAD], titles=["Leads export"])
    report = run_file("leads", path)
    assert report.status == "failed"
    # Title line 1, header line 2, rows 3-5: the bad row is row 5, with three bad cells.
    assert sorted((e.row, e.column, e.value) for e in report.errors) == [
        (5, "company_size", "lots"),
        (5, "email", "not-an-email"),
        (5, "mql_at", "2025-13-01"),
    ]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
        assert session.scalar(select(func.count()).select_from(QuarantinedRecord)) == 0
        job = session.scalars(select(ImportJob)).one()
        assert (job.status, job.rows_rejected) == ("failed", 1)


def test_skip_invalid_imports_the_rest_and_quarantines(store, run_file, csv_file) -> None:
    path = csv_file("leads.csv", [HEADER, *GOOD, BAD])
    report = run_file("leads", path, skip_invalid=True)
    assert (report.status, report.inserted, len(report.rejected_rows)) == ("done", 2, 1)
    assert report.unknown_columns == ["colour"] and report.unknown_owners == {"nobody@example.com"}
    with store.session() as session:
        alice = session.scalars(select(Lead).where(Lead.external_id == "L1")).one()
        assert alice.email == "alice@example.com" and alice.phone == "+886912345678"
        assert alice.tags == ["vip", "b2b"] and alice.custom == {"colour": "blue"} and alice.owner_id is None
        assert alice.created_at == datetime(2025, 3, 5, 1, 5, tzinfo=UTC)  # 上午 9:05 Taipei
        assert alice.stage == "mql"
        # Source fields record the first touch at created_at and fill the first_* columns.
        assert (alice.first_channel, alice.first_utm_source, alice.first_touch_at) == (
            "Paid Search", "google", alice.created_at)  # fmt: skip
        assert alice.first_campaign_id == session.scalars(select(Campaign.id)).one()
        bob = session.scalars(select(Lead).where(Lead.external_id == "L2")).one()
        # Bob's sql_at skips mql and sal: they are implied at the same instant.
        events = session.execute(
            select(LifecycleEvent.to_stage, LifecycleEvent.implied).where(LifecycleEvent.lead_id == bob.id)
            .order_by(LifecycleEvent.id)
        ).all()  # fmt: skip
        assert [tuple(e) for e in events] == [("lead", False), ("mql", True), ("sal", True), ("sql", False)]
        # Same company by normalised name ("Acme 股份有限公司" and "ACME"): one account.
        assert session.scalar(select(func.count()).select_from(Account)) == 1
        assert alice.account_id == bob.account_id
        record = session.scalars(select(QuarantinedRecord)).one()
        assert (record.row_number, record.kind, record.payload["values"]["email"]) == (
            4,
            "leads",
            "not-an-email",
        )
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "import.completed")).one()
        assert audit.after["inserted"] == 2 and audit.after["tables"]["leads"] == 2


def test_reimport_and_changed_row_update(store, run_file, csv_file) -> None:
    path = csv_file("leads.csv", [HEADER, *GOOD])
    assert run_file("leads", path).inserted == 2
    again = run_file("leads", path)
    assert (again.status, again.inserted, again.updated) == ("unchanged", 0, 0)
    forced = run_file("leads", path, force=True)
    assert (forced.inserted, forced.updated, forced.unchanged) == (0, 0, 2)
    changed = [row[:] for row in GOOD]
    changed[1][3] = "Robert"
    report = run_file("leads", csv_file("leads2.csv", [HEADER, *changed]))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    with store.session() as session:
        update = session.scalars(select(AuditLog).where(AuditLog.action == "lead.updated")).one()
        # name is first + last name when the file has no name column, so it changes too.
        assert update.before == {"first_name": "Bob", "name": "Bob"}
        assert update.after == {"first_name": "Robert", "name": "Robert"}
        assert session.scalar(select(func.count()).select_from(LifecycleEvent)) == 6


def test_dry_run_writes_nothing(store, run_file, csv_file) -> None:
    report = run_file("leads", csv_file("leads.csv", [HEADER, *GOOD]), dry_run=True)
    assert (report.status, report.inserted) == ("dry_run", 2)
    with store.session() as session:
        for table in (Lead, ImportJob, AuditLog, Account, Touchpoint):
            assert session.scalar(select(func.count()).select_from(table)) == 0


def test_touchpoints_channels_and_first_touch(store, run_file, csv_file) -> None:
    run_file("leads", csv_file("leads.csv", [HEADER, *GOOD]))
    rows = [
        ["lead_email", "occurred_at", "type", "utm_source", "utm_medium", "gclid", "referrer", "channel"],
        ["ALICE@example.com", "2025-03-01 10:00", "page_view", "", "", "", "https://www.google.com.tw/", ""],
        ["alice@example.com", "2025/03/02 下午 02:00:00", "ad_click", "", "", "Cj0", "", ""],
        ["bob@gmail.com", "2025-03-08T09:00:00+08:00", "webinar", "", "", "", "", "Events"],
        ["nobody@example.com", "2025-03-08", "page_view", "", "", "", "", ""],
        ["bob@gmail.com", "", "teleport", "", "", "", "", "Carrier Pigeon"],
    ]
    report = run_file("touchpoints", csv_file("tp.csv", rows), skip_invalid=True)
    assert report.inserted == 3
    assert sorted((e.row, e.column) for e in report.errors) == [
        (5, "lead_email"), (6, "channel"), (6, "occurred_at"), (6, "type")]  # fmt: skip
    with store.session() as session:
        alice = session.scalars(select(Lead).where(Lead.external_id == "L1")).one()
        # The organic search visit on 1 March is earlier than the import's first touch (5 March).
        assert (alice.first_channel, alice.first_touch_at) == (
            "Organic Search", datetime(2025, 3, 1, 2, 0, tzinfo=UTC))  # fmt: skip
        channels = session.execute(select(Touchpoint.type, Touchpoint.channel, Touchpoint.channel_explicit)
                                   .where(Touchpoint.external_id.like("import:%"), Touchpoint.type != "other")
                                   .order_by(Touchpoint.occurred_at)).all()  # fmt: skip
        assert [tuple(c) for c in channels] == [
            ("page_view", "Organic Search", False), ("ad_click", "Paid Search", False), ("webinar", "Events", True)]  # fmt: skip
    again = run_file("touchpoints", csv_file("tp.csv", rows), skip_invalid=True, force=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)


def test_the_same_person_twice_in_one_file_is_refused(store, run_file, csv_file) -> None:
    rows = [
        ["external_id", "email"],
        ["D1", "dup@example.com"],
        ["D2", "DUP@example.com"],
        ["D1", "x@example.com"],
    ]
    report = run_file("leads", csv_file("dups.csv", rows))
    assert report.status == "failed"
    assert sorted((e.row, e.column, e.reason) for e in report.errors) == [
        (3, "email", "same record as row 2 of this file"),
        (4, "external_id", "same record as row 2 of this file"),
    ]


def test_erased_people_are_not_brought_back(store, run_file, csv_file) -> None:
    from closedloop.db import unit_of_work
    from closedloop.leads.identity import identity_hash
    from closedloop.leads.models import ErasedIdentity
    from closedloop.users.privacy import erasure_salt

    with unit_of_work(store.session_factory) as session:
        session.add(
            ErasedIdentity(identity_hash=identity_hash("email", "gone@example.com", salt=erasure_salt()))
        )
    rows = [["email", "first_name"], ["Gone@Example.com", "Ghost"], ["here@example.com", "Here"]]
    report = run_file("leads", csv_file("erased.csv", rows))
    assert (report.inserted, report.skipped_erased) == (1, 1)
    with store.session() as session:
        assert session.scalars(select(Lead.email)).all() == ["here@example.com"]


def test_big5_and_xlsx_files(store, run_file, csv_file, tmp_path) -> None:
    from openpyxl import Workbook

    rows = [["email", "name", "company", "created_at", "region"],
            ["lin@example.tw", "林志明", "台灣精密股份有限公司", "114/03/05 下午 03:30", "北區"]]  # fmt: skip
    report = run_file("leads", csv_file("big5.csv", rows, encoding="cp950"))
    assert (report.encoding, report.inserted) == ("cp950", 1)
    book = Workbook()
    book.active.append(["Contacts"])
    book.active.append(["email", "name", "created_at", "company_size"])
    book.active.append(["xl@example.tw", "王大同", datetime(2025, 3, 6, 9, 0), 250])
    path = tmp_path / "leads.xlsx"
    book.save(path)
    assert run_file("leads", path).inserted == 1
    with store.session() as session:
        lin = session.scalars(select(Lead).where(Lead.email == "lin@example.tw")).one()
        assert (lin.name, lin.region, lin.created_at) == (
            "林志明",
            "北區",
            datetime(2025, 3, 5, 7, 30, tzinfo=UTC),
        )
        xl = session.scalars(select(Lead).where(Lead.email == "xl@example.tw")).one()
        assert (xl.name, xl.company_size, xl.created_at) == (
            "王大同",
            "250",
            datetime(2025, 3, 6, 1, 0, tzinfo=UTC),
        )


def test_import_file_owns_its_transaction(store, csv_file) -> None:
    from closedloop.clock import fixed_clock
    from closedloop.imports.service import import_file

    options = {"kind": "leads", "actor": IMPORTER, "clock": fixed_clock(datetime(2026, 4, 1, tzinfo=UTC))}
    failed = import_file(session_factory=store.session_factory, path=csv_file("bad.csv", [HEADER, *GOOD, BAD]),
                         **options)  # fmt: skip
    dry = import_file(session_factory=store.session_factory, path=csv_file("ok.csv", [HEADER, *GOOD]), dry_run=True,
                      **options)  # fmt: skip
    assert (failed.status, dry.status, dry.inserted) == ("failed", "dry_run", 2)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
        assert session.scalars(select(ImportJob.status)).all() == ["failed"]
    done = import_file(
        session_factory=store.session_factory, path=csv_file("ok.csv", [HEADER, *GOOD]), **options
    )
    assert (done.status, done.inserted) == ("done", 2)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 2


def test_a_known_identity_is_not_replaced(store, run_file, csv_file) -> None:
    run_file("leads", csv_file("a.csv", [["external_id", "email"], ["CRM-1", "keep@example.com"]]))
    report = run_file("leads", csv_file("b.csv", [["external_id", "email", "title"],
                                                  ["CRM-9", "keep@example.com", "CTO"]]))  # fmt: skip
    assert report.updated == 1 and "keeps its external_id" in report.warnings[0]
    with store.session() as session:
        lead = session.scalars(select(Lead)).one()
        assert (lead.external_id, lead.title) == ("CRM-1", "CTO")
