"""The KPIs a run reports: stable snake_case names with the unit in the name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    """A KPI: its name, what it measures, and which direction is better."""

    name: str
    description: str
    better: int  # +1 higher is better, -1 lower is better, 0 neither


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("leads", "cohort leads (arrived after warm-up, before the horizon)", 0),
    MetricSpec("orders", "cohort leads whose order was booked", +1),
    MetricSpec("revenue", "deal value of booked cohort orders", +1),
    MetricSpec("win_rate", "won / closed opportunities (won, declined, lost to a competitor)", +1),
    MetricSpec("lead_conversion_rate", "won / closed cohort leads", +1),
    MetricSpec("qualification_rate", "qualified / contacted cohort leads", +1),
    MetricSpec("competitor_loss_rate", "lost to a competitor / closed opportunities", -1),
    MetricSpec("first_response_hours_mean", "lead arrival to the first call attempt, elapsed hours", -1),
    MetricSpec("first_response_hours_p90", "90th percentile of first response, hours", -1),
    MetricSpec("time_to_contact_hours_mean", "lead arrival to the call that reaches the lead, elapsed hours", -1),
    MetricSpec("contact_rate", "share of cohort leads reached by some call attempt", +1),
    MetricSpec("followup_timeliness", "share of first call attempts within the response SLA (working hours)", +1),
    MetricSpec("quote_turnaround_hours_mean", "qualification to quote sent, hours", -1),
    MetricSpec("quote_approval_hours_mean", "quote submitted to approval decision, hours per round", -1),
    MetricSpec("quote_approval_hours_p90", "90th percentile of approval time, hours", -1),
    MetricSpec("approval_sla_breach_rate", "share of approval rounds slower than the approval SLA", -1),
    MetricSpec("quote_rework_rate", "share of approval rounds that sent the quote back", -1),
    MetricSpec("escalation_rate", "share of approval rounds escalated at the SLA (online approval)", -1),
    MetricSpec("contract_cycle_days_mean", "quote accepted to contract countersigned, days", -1),
    MetricSpec("contract_cycle_days_p90", "90th percentile of contract cycle, days", -1),
    MetricSpec("order_entry_hours_mean", "countersigned to order booked in the ERP, hours", -1),
    MetricSpec("lead_to_order_days_mean", "lead arrival to order booked, days", -1),
    MetricSpec("lead_to_order_days_p90", "90th percentile of lead to order, days", -1),
    MetricSpec("rep_utilisation", "reps' work hours (all kinds) / their working hours less absences, cohort window", 0),
    MetricSpec("rep_selling_share", "reps' customer-facing hours (calls, account work) / their working hours", 0),
    MetricSpec("manager_utilisation", "managers' work hours (reviews, escalations, countersigning, duties) / hours", 0),
    MetricSpec("account_service_done_rate", "share of planned account service hours the reps got to", +1),
    MetricSpec("team_cost", "cost of reps, managers and sales ops over the cohort window", -1),
    MetricSpec("running_cost", "running cost of the pipeline tools (CRM, CPQ, e-signature, ERP sync), window", -1),
    MetricSpec("gross_profit", "revenue x product margin of booked cohort orders", +1),
    MetricSpec("margin_after_outreach", "gross profit - outreach cost (touch fees, ops time, offer discounts)", +1),
    MetricSpec("net_profit", "gross profit - team cost - running cost - outreach cost - incentive payout", +1),
    MetricSpec("outreach_cost", "touch fees and win-back discounts (margin given away) in the window", -1),
    MetricSpec("offer_cost", "the margin given away by win-back discounts in the window", -1),
    MetricSpec("outreach_rep_hours", "rep hours spent on phone calls and visits to accounts in the window", 0),
    MetricSpec("outreach_touches", "touches of accounts in the window, every channel", 0),
    MetricSpec("outreach_responses", "touches that got a response in the window", +1),
    MetricSpec("revived_accounts", "accounts that had left and came back after a win-back offer, window", +1),
    MetricSpec("complaint_rate", "complaints per account touched in a month (the plan's floor: 1%)", -1),
    MetricSpec("opt_outs", "accounts opting out of a channel in the window", -1),
    MetricSpec("repurchase_rate", "share of accounts that had bought before the window and buy in it", +1),
    MetricSpec("new_customer_revenue_share", "new customers' share of cohort revenue (the plan's target: 40%)", 0),
    MetricSpec("high_value_share", "share of accounts in the high-value tier at the window's last snapshot", +1),
    MetricSpec(
        "cost_per_account_order", "outreach cost plus touch rep time at loaded cost / cohort account orders", -1
    ),
    MetricSpec("customer_value_mean", "mean model value of an account: E[orders next 12 months] x order profit", +1),
    MetricSpec("open_deals_mean", "time-average open opportunities (qualified, not yet closed)", 0),
    MetricSpec("in_flight", "cohort leads still open when the run ends", 0),
    MetricSpec("reorders", "cohort requests that were an account's direct reorder (no call, straight to the quote)", 0),
    MetricSpec("payout_cost", "incentive pay accrued to the window's months (settled per period, every seat)", -1),
    MetricSpec("playbook_cost", "what the risk playbooks that switched on cost in the window", -1),
    MetricSpec("payout_share", "payout cost / revenue", -1),
    MetricSpec("quota_attainment_share", "share of settled rep-periods ending in the window that reached quota", +1),
    MetricSpec("quota_attainment_median", "median attainment (revenue / prorated quota) of those rep-periods", +1),
    MetricSpec("floor_cut_share", "share of those rep-periods whose pay a missed floor cut", -1),
    MetricSpec(
        "team_target_share", "share of region-periods whose team reached 90% of its quota (managers' criterion)", +1
    ),
    MetricSpec("rep_complaint_rate", "complaints about reps per account a rep served in a month (the floor: 1%)", -1),
    MetricSpec("rep_attrition", "reps who left in the window / rep-years in post (annual rate)", -1),
    MetricSpec("voluntary_attrition", "reps who quit in the window / rep-years in post (without the floors' exits)", 0),
    MetricSpec("exam_pass_rate", "share of new hires' exams in the window passed (product and role-play)", 0),
    MetricSpec("exam_false_pass_rate", "share of below-average hires (latent skill) whose exam passed", -1),
    MetricSpec("exam_false_fail_rate", "share of above-average hires whose exam failed", -1),
    MetricSpec("new_customers", "accounts won in the window (a prospect's first order booked)", +1),
    MetricSpec("gamed_touch_share", "share of first attempts that were perfunctory touches stopping the SLA clock", -1),
    MetricSpec("pulled_deals", "deals pulled forward with a discount before a period end, window", 0),
    MetricSpec("pushed_deals", "contracts pushed into the next period, window", 0),
    MetricSpec("timing_discount_cost", "revenue given away by discounts on pulled deals, window", -1),
    MetricSpec("effort_share_followup", "share of reps' busy hours on first calls to leads", 0),
    MetricSpec("effort_share_deals", "share of reps' busy hours on quotes and contracts", 0),
    MetricSpec(
        "effort_share_accounts", "share of reps' busy hours on existing accounts (service, development, touches)", 0
    ),
    MetricSpec("effort_share_prospecting", "share of reps' busy hours prospecting for new customers", 0),
    MetricSpec("effort_share_training", "share of reps' busy hours in training", 0),
    MetricSpec("effort_share_admin", "share of reps' busy hours on admin and CRM", 0),
)

METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
METRIC_BY_NAME: dict[str, MetricSpec] = {m.name: m for m in METRICS}

#: Metrics whose change against the baseline is the headline of a comparison.
HEADLINE_METRICS: tuple[str, ...] = (
    "quote_approval_hours_mean",
    "contract_cycle_days_mean",
    "first_response_hours_mean",
    "lead_to_order_days_mean",
    "win_rate",
    "orders",
    "revenue",
    "net_profit",
    "rep_utilisation",
    "manager_utilisation",
    "approval_sla_breach_rate",
)
