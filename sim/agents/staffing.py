"""The staffing desk: who sits in each rep seat, how good they are, and their training.

Month by month (domain.md section 3, values in ``reps.lifecycle``): productivity follows the
ramp of tenure and the decaying gains of training; each rep in post leaves with the hazard of
:func:`salesboost.lifecycle.exit_probability` (higher after a low period, a floor's pay cut or
in the first year), or is let go after the scheme's repeated floor misses. A seat left empty
is filled by the region's backup from the talent pool after a short handover, else by an
external hire after an exponential hiring lag; the leaver's accounts and open work go to the
region's other reps. A new hire spends the plan's two weeks in the classroom (all of their
time), sits the product exam and the role-play (scores measure latent skill with the
configured validity, so some weak hires pass and some good ones fail; a failed hire retrains
and resits), then a month of mentoring that takes part of the mentee's and a peer's day.
Seniors have the monthly topic training and the quarterly case workshop, whose assessment is
their training score; managers their quarterly programme and monthly peer learning. Every
seat draws from its own streams, so a seat's luck is the same under every scheme.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from salesboost.lifecycle import decayed, exam_score, exit_probability, passes, programme_gain, ramp
from sim.agents.rep import RepState, rep_state
from sim.agents.worker import Worker
from sim.calendar import HOURS_PER_DAY
from sim.decisions.effort import COMPULSORY
from sim.rep_book import DAYS_IN_POST, LEFT, RepBook
from sim.tasks import TRAINING, Task
from sim.world import World

MONTH_HOURS = 365.25 / 12.0 * HOURS_PER_DAY


class Career:
    """One seat's person: skill, schooling and the scheme's record of them."""

    __slots__ = (
        "classroom_until",
        "data_found",
        "floor_misses",
        "gains",
        "hires",
        "last_attainment",
        "last_cut",
        "log_ability",
        "mentoring_until",
        "resat",
        "training_score",
    )

    def __init__(self, log_ability: float) -> None:
        self.log_ability = log_ability
        self.gains: list[tuple[float, float]] = []  # (clock hour, log-productivity gain) of training
        self.classroom_until = -1  # last classroom day (day index), -1: none
        self.mentoring_until = -1
        self.resat = False
        self.hires = 0
        self.training_score = math.nan  # latest exam or assessment score
        self.data_found = False  # found a latent need in CRM data this settlement period
        self.floor_misses = 0  # consecutive settlements with a missed floor
        self.last_attainment = math.nan
        self.last_cut = False


class StaffingDesk:
    """Ramp, training, exams, attrition, vacancies and backfill for every rep seat."""

    def __init__(self, world: World, book: RepBook, reassign: Callable[[Worker, float], None]) -> None:
        self._world = world
        self._env = world.env
        self._book = book
        self._reassign = reassign
        self._config = world.scenario.reps.lifecycle
        cv = world.scenario.team.rep_time.ability_cv
        self._sigma = math.sqrt(math.log1p(cv * cv)) if cv > 0 else 0.0
        self.careers = [Career(math.log(rep_state(rep).ability)) for rep in world.reps]
        # Per seat: the monthly leave draw (one a month, used or not), and apart from it the
        # draws that happen only sometimes (an assessment, a vacancy), so neither shifts the other.
        self._life = [world.streams.entity(f"rep.{rep.name}.life") for rep in world.reps]
        self._assessments = [world.streams.entity(f"rep.{rep.name}.assessment") for rep in world.reps]
        self._vacancies = [world.streams.entity(f"rep.{rep.name}.vacancy") for rep in world.reps]
        self._data = [world.streams.entity(f"rep.{rep.name}.data_use") for rep in world.reps]
        self._pool = dict.fromkeys(world.reps_by_region, self._config.backups_per_region)
        self._pool_size = self._config.backups_per_region
        self._hiring = [0] * len(world.reps)  # per seat, the token of the hire that will fill it
        office = world.scenario.calendar.intervals()
        meetings = world.scenario.team.rep_time.meeting_intervals
        self.day_hours = sum(b - a for a, b in office) - sum(b - a for a, b in meetings)

    # -- the month --------------------------------------------------------------------------------
    def month(self, m: int, now: float) -> None:
        """Month ``m`` starts: productivity, departures, the seniors' and managers' training."""
        config = self._config
        quarter_start = self._book.months[m][0].month % 3 == 1
        for seat, rep in enumerate(self._world.reps):
            state = rep_state(rep)
            career = self.careers[seat]
            u = float(self._life[seat].random())  # one draw a seat and month, used or not (pairing)
            if state.vacant:
                continue
            tenure = (now - state.hired) / MONTH_HOURS
            state.ramp = ramp(config, tenure) if config.enabled else 1.0
            self.refresh(rep, now)
            if not config.enabled:
                continue
            p = exit_probability(
                config, attainment=career.last_attainment, bonus_cut=career.last_cut, tenure_months=tenure
            )
            if u < p:
                self.leave(seat, now, "voluntary")
                continue
            if career.classroom_until < 0 and tenure >= 1.0:
                self._compulsory(rep, now, config.senior_topic_hours)
                if quarter_start:
                    self._compulsory(rep, now, config.workshop_hours)
                    self.assess(seat)
        if config.enabled:
            for manager in self._world.managers:
                self._compulsory(manager, now, config.manager_peer_hours)
                if quarter_start:
                    self._compulsory(manager, now, config.manager_programme_hours)

    def refresh(self, rep: Worker, now: float) -> None:
        """Set the rep's speed from ability, ramp and what is left of training gains."""
        state = rep_state(rep)
        career = self.careers[state.slot]
        half_life = self._config.training_half_life_months
        gain = sum(decayed(g, (now - t) / MONTH_HOURS, half_life) for t, g in career.gains)
        state.gain = gain
        rep.speed = 1.0 / (math.exp(career.log_ability + gain) * max(state.ramp, 1e-3))

    def trained(self, rep: Worker, hours: float, now: float) -> None:
        """``rep`` did ``hours`` of training: its gain, and a share of it for each peer in the region."""
        config = self._config
        if hours <= 0:
            return
        seat = rep_state(rep).slot
        career = self.careers[seat]
        find = self._world.scenario.reps.work.data_use_per_hour
        if not career.data_found and self._data[seat].random() < 1.0 - (1.0 - min(find, 1.0)) ** hours:
            career.data_found = True
        if not config.enabled:
            return
        gain = programme_gain(config, self._sigma, hours)
        career.gains.append((now, gain))
        if config.spillover > 0:
            for peer in self._world.reps_by_region[rep.region]:
                if peer is not rep and not rep_state(peer).vacant:
                    self.careers[rep_state(peer).slot].gains.append((now, gain * config.spillover))

    def skill_z(self, seat: int) -> float:
        """The seat's latent skill in sd of log ability (ability plus training gains), 0 = average."""
        if self._sigma <= 0:
            return 0.0
        career = self.careers[seat]
        state = rep_state(self._world.reps[seat])
        return (career.log_ability + self._sigma**2 / 2 + state.gain) / self._sigma

    def assess(self, seat: int) -> None:
        """The quarterly workshop's assessment: a noisy measure of skill (the scorecard's training score)."""
        noise = float(self._assessments[seat].standard_normal())
        self.careers[seat].training_score = exam_score(self._config, self.skill_z(seat), noise)

    def _compulsory(self, worker: Worker, now: float, hours: float) -> None:
        if hours <= 0:
            return
        start = worker.calendar.next_working_instant(now)
        if start >= self._world.end:
            return
        task = self._world.task(TRAINING, hours, None, None, start)
        task.worth = COMPULSORY
        state = worker.state
        if not isinstance(state, RepState):  # a manager's coaching: managers do not leave
            self._env.timeout(start - now).callbacks.append(lambda _e: worker.submit(task))
            return
        seat = state.slot
        hires = self.careers[seat].hires

        def submit(_event: object) -> None:  # only to the rep it was meant for, if still in post
            if self.careers[seat].hires == hires and not state.vacant:
                worker.submit(task)

        self._env.timeout(start - now).callbacks.append(submit)

    # -- leaving and hiring -------------------------------------------------------------------------
    def leave(self, seat: int, now: float, reason: str) -> None:
        """The rep in ``seat`` leaves now: the seat is empty until a backup or a new hire starts."""
        rep = self._world.reps[seat]
        state = rep_state(rep)
        if state.vacant:
            return
        state.vacant = True
        self._book.add(seat, now, LEFT)
        self._book.exits[reason] = self._book.exits.get(reason, 0) + 1
        self._book.leavers.append((now, reason))
        self._reassign(rep, now)
        config = self._config
        rng = self._vacancies[seat]
        wait = float(rng.standard_exponential()) * config.vacancy_months * MONTH_HOURS
        backup = self._pool.get(rep.region, 0) > 0
        if backup:
            self._pool[rep.region] -= 1
            wait = config.backup_start_days * HOURS_PER_DAY * 7.0 / 5.0
            refill = now + config.backup_refill_months * MONTH_HOURS
            if refill < self._world.end:
                self._env.timeout(refill - now).callbacks.append(lambda _e: self._refill(rep.region))
        if self._world.risk is not None:
            self._world.risk.left(rep.region)
        self._schedule_hire(seat, wait, backup)

    def call_up(self, backups: int) -> None:
        """The talent-pool playbook: ``backups`` more per region, and every empty seat filled from the pool."""
        self._pool_size += backups
        for region in self._pool:
            self._pool[region] += backups
        wait = self._config.backup_start_days * HOURS_PER_DAY * 7.0 / 5.0
        for seat, rep in enumerate(self._world.reps):
            if rep_state(rep).vacant and self._pool[rep.region] > 0:
                self._pool[rep.region] -= 1
                self._schedule_hire(seat, wait, True)

    def _schedule_hire(self, seat: int, wait: float, backup: bool) -> None:
        """Fill ``seat`` after ``wait`` hours; a later call for the same seat replaces this one."""
        self._hiring[seat] += 1
        token = self._hiring[seat]
        if self._env.now + wait < self._world.end:
            self._env.timeout(wait).callbacks.append(lambda _e: self._hire(seat, backup, token))

    def _refill(self, region: str) -> None:
        self._pool[region] = min(self._pool[region] + 1, self._pool_size)

    def _hire(self, seat: int, backup: bool, token: int) -> None:
        if token != self._hiring[seat]:
            return  # replaced by a later call (the talent pool)
        now = self._env.now
        rep = self._world.reps[seat]
        state = rep_state(rep)
        career = self.careers[seat]
        career.hires += 1
        rng = self._world.streams.entity(f"rep.{rep.name}.hire.{career.hires}")
        cv = self._world.scenario.team.rep_time.ability_cv
        sigma = self._sigma
        log_ability = float(rng.normal(-sigma * sigma / 2, sigma)) if cv > 0 else 0.0
        fresh = Career(log_ability)
        fresh.hires = career.hires
        self.careers[seat] = fresh
        config = self._config
        tenure_months = config.ramp_months / 2.0 if backup else 0.0  # a backup was trained while waiting
        state.hired = now - tenure_months * MONTH_HOURS
        state.ramp = ramp(config, tenure_months)
        state.gain = 0.0
        state.vacant = False
        state.vacant_days.discard(int(now // HOURS_PER_DAY))  # the hire works the rest of today: available
        # Accounts went to peers when the rep left; those that had nobody to go to are the hire's.
        state.owned = [a for a in state.owned if a.owner is rep]
        state.accounts = len(state.owned)
        self.refresh(rep, now)
        if not backup:
            today = int(now // HOURS_PER_DAY)
            fresh.classroom_until = self._workday_after(rep, today, config.classroom_days)
            noise = rng.standard_normal(4).tolist()
            self._exam_at(seat, fresh.classroom_until, noise)
        rep.wake()

    def _exam_at(self, seat: int, day: int, noise: list[float]) -> None:
        t = (day + 1) * HOURS_PER_DAY
        if t >= self._world.end:
            return

        def sit(_event: object) -> None:
            career = self.careers[seat]
            config = self._config
            z = self.skill_z(seat)
            i = 2 if career.resat else 0
            product = exam_score(config, z, noise[i])
            roleplay = exam_score(config, z, noise[i + 1])
            ok = passes(config, product, roleplay)
            career.training_score = product
            self._book.exams.append((self._env.now, ok, z > 0))
            rep = self._world.reps[seat]
            today = int(self._env.now // HOURS_PER_DAY)
            if ok or career.resat:
                career.classroom_until = -1
                career.mentoring_until = self._workday_after(rep, today, config.mentoring_days)
                return
            career.resat = True
            career.classroom_until = self._workday_after(rep, today, config.retrain_days)
            self._exam_at(seat, career.classroom_until, noise)

        self._env.timeout(t - self._env.now).callbacks.append(sit)

    def _workday_after(self, rep: Worker, today: int, days: int) -> int:
        """The day index of the ``days``-th working day of ``rep`` from ``today`` on (``today`` if 0)."""
        day, count = today, 0
        while count < days and day < self._world.days:
            if rep.calendar.is_workday(day):
                count += 1
                if count == days:
                    break
            day += 1
        return day

    # -- the day ------------------------------------------------------------------------------------
    def day_tasks(self, rep: Worker, day: int, now: float, expires: float) -> tuple[list[Task], bool]:
        """Compulsory schooling of the day, and whether the rep is in the classroom (no other work)."""
        career = self.careers[rep_state(rep).slot]
        tasks: list[Task] = []
        if career.classroom_until >= day:
            tasks.append(self._training(self.day_hours, now, expires))
            return tasks, True
        if career.mentoring_until >= day:
            config = self._config
            tasks.append(self._training(self.day_hours * config.mentoring_share, now, expires))
            mentor = self._mentor(rep)
            if mentor is not None:
                mentor.own.append(self._training(self.day_hours * config.mentor_share, now, expires))
        return tasks, False

    def _mentor(self, rep: Worker) -> Worker | None:
        peers = [p for p in self._world.reps_by_region[rep.region] if p is not rep and not rep_state(p).vacant]
        return peers[0] if peers else None

    def _training(self, hours: float, now: float, expires: float) -> Task:
        task = self._world.task(TRAINING, hours, None, None, now)
        task.worth = COMPULSORY
        task.expires = expires
        return task

    def in_post_days(self, now: float) -> None:
        """Count a day in post for every filled seat (the book's rep-months and employed shares)."""
        for seat, rep in enumerate(self._world.reps):
            if not rep_state(rep).vacant:
                self._book.add(seat, now, DAYS_IN_POST)
