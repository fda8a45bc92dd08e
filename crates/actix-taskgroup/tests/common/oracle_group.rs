//! The oracle's rules for one group: admitting, starting, stopping, restarting and ending its
//! children (`oracle.rs` holds the event loop).

use std::time::Duration;

use super::{
    C, ErrK, FailK, G, Inc, OutK, Phase, Sim, SimChild, St, Unmodeled, ms, nested_outcome,
    simulate, spawned_name,
};
use crate::tree::{
    ActScript, Body, ChildM, FutScript, GroupKind, OnStop, PolicyM, RestartM, StrategyM,
};
impl G<'_> {
    pub(super) fn admit(&mut self, name: String, spec: ChildM) -> Sim<()> {
        let gated = self.spec.limit.is_some();
        let i = self.children.len();
        self.children.push(C {
            name,
            spec,
            st: St::Queued,
            attempts: 0,
            holds_slot: false,
            streak: 0,
            last_start: None,
            result: None,
            last_nested: None,
        });
        let free = self.spec.limit.is_none_or(|n| self.running < n);
        if gated && (!self.queue.is_empty() || !free) {
            self.queue.push_back(i);
        } else {
            if gated {
                self.running += 1;
                self.children[i].holds_slot = true;
            }
            self.start_incarnation(i)?;
        }
        Ok(())
    }

    /// Whether an event's order against others at the same instant cannot matter.
    pub(super) fn harmless(&self, i: usize, outcome: OutK) -> bool {
        let c = &self.children[i];
        let spawns = matches!(
            c.spec.body,
            Body::Future {
                script: FutScript::Spawn(..),
                ..
            }
        );
        matches!(outcome, OutK::Completed(_))
            && self.spec.policy != PolicyM::FirstSuccess
            && c.spec.restart != RestartM::Permanent
            && !spawns
    }

    pub(super) fn start_incarnation(&mut self, i: usize) -> Sim<()> {
        let now = self.now;
        let c = &mut self.children[i];
        c.attempts += 1;
        c.last_start = Some(now);
        let attempt = c.attempts;
        let flaky = attempt <= c.spec.flaky;
        let bomb = matches!(
            c.spec.body,
            Body::Future {
                panic_on_drop: true,
                ..
            } | Body::Actor {
                panic_on_drop: true,
                ..
            }
        );
        let at = |d: u64| now + ms(d);
        let mut nested = None;
        let natural = if flaky {
            Some((at(c.spec.flaky_at), OutK::Failed))
        } else {
            match &c.spec.body {
                Body::Future { script, .. } => match script {
                    FutScript::Complete(d, v) => Some((at(*d), OutK::Completed(*v))),
                    FutScript::Fail(d) => Some((at(*d), OutK::Failed)),
                    FutScript::Panic(d) => Some((at(*d), OutK::Panicked)),
                    FutScript::Hang => None,
                    FutScript::Yield(_, v) => Some((now, OutK::Completed(*v))),
                    FutScript::Spawn(d, _) => Some((at(*d), OutK::Completed(0))),
                },
                Body::Actor { script, .. } => match *script {
                    ActScript::Complete(d, v) => Some((at(d), OutK::Completed(v))),
                    ActScript::Fail(d) => Some((at(d), OutK::Failed)),
                    ActScript::Panic(d) => Some((at(d), OutK::Panicked)),
                    ActScript::Hang | ActScript::Veto | ActScript::PanicInStopping => None,
                    ActScript::Report { at: r, then, value } => {
                        Some((at(r + then), value.map_or(OutK::Failed, OutK::Completed)))
                    }
                },
                Body::Group { group, .. } => {
                    // Simulated lazily below (it may be unmodeled).
                    nested = Some(group.clone());
                    None
                }
            }
        };
        let natural = natural.map(|(t, o)| (t, if bomb { OutK::Panicked } else { o }));
        c.st = St::Running(Inc {
            start: now,
            attempt,
            natural,
            stop_end: None,
            stop_asked: false,
            timed_out: false,
            spawned: false,
            nested: None,
        });
        if let Some(group) = nested {
            let name = c.name.clone();
            if let Some(sim) = simulate(&group, &name, now, None)? {
                let St::Running(inc) = &mut self.children[i].st else {
                    unreachable!()
                };
                inc.natural = Some((sim.end, nested_outcome(group.kind, &sim)));
                inc.nested = Some(sim);
            }
        }
        Ok(())
    }

    /// The running incarnation of `i` ends on its own at `now`.
    pub(super) fn natural_end(&mut self, i: usize) -> Sim<()> {
        let St::Running(inc) = &self.children[i].st else {
            unreachable!()
        };
        let (_, mut outcome) = inc.natural.expect("a natural end");
        let (asked, attempt, spawned) = (inc.stop_asked, inc.attempt, inc.spawned);
        let spec = &self.children[i].spec;
        if let Body::Future {
            script: FutScript::Spawn(_, kids),
            ..
        } = &spec.body
            && attempt > spec.flaky
            && !spawned
        {
            let kids = kids.clone();
            let spawner = self.children[i].name.clone();
            for (k, kid) in kids.into_iter().enumerate() {
                let name = spawned_name(&spawner, k, attempt);
                if self.phase == Phase::Open {
                    self.admit(name, kid)?;
                } else {
                    self.refused.push((name, self.now));
                }
            }
            if self.by_message {
                let now = self.now;
                let St::Running(inc) = &mut self.children[i].st else {
                    unreachable!()
                };
                inc.spawned = true;
                inc.natural = Some((now, outcome));
                return Ok(());
            }
        }
        if asked && matches!(outcome, OutK::Completed(_)) {
            // A graceful future that returns `Ok` after its stop request was cancelled.
            outcome = OutK::Cancelled;
        }
        self.incarnation_ended(i, outcome)
    }

    /// Asks the running incarnation of `i` to stop: the whole group's stop, or its own
    /// timeout (`solo`).
    pub(super) fn ask_stop(&mut self, i: usize, solo: bool) -> Sim<()> {
        let now = self.now;
        let grace = ms(self.spec.grace);
        let c = &mut self.children[i];
        let St::Running(inc) = &mut c.st else {
            unreachable!()
        };
        inc.stop_asked = true;
        inc.timed_out |= solo;
        let flaky = inc.attempt <= c.spec.flaky;
        if let Some((at, natural)) = inc.natural
            && at == now
        {
            // It would end in this very instant. An actor ends so in `started()`, which runs
            // even when the stop comes first (R2: a child accepted is started, then stopped);
            // for a future it depends on the poll order.
            if matches!(c.spec.body, Body::Actor { .. }) && inc.start == now {
                return self.incarnation_ended(i, natural);
            }
            return Err(Unmodeled("a tie"));
        }
        let (at, outcome) = match &c.spec.body {
            Body::Future {
                graceful,
                panic_on_drop,
                ..
            } => {
                if *panic_on_drop && inc.start == now && graceful.is_none() {
                    // Stopped in the instant it started: whether its factory (and so its
                    // panicking destructor) ran depends on the engine's poll order.
                    return Err(Unmodeled("a destructor that may not exist yet"));
                }
                let o = if *panic_on_drop {
                    OutK::Panicked
                } else {
                    OutK::Cancelled
                };
                match graceful {
                    None | Some(OnStop::Quick) => (now, o),
                    Some(OnStop::Ignore) => (now + grace, o),
                }
            }
            Body::Actor {
                script,
                panic_on_drop,
                ..
            } => {
                let bomb = if *panic_on_drop {
                    OutK::Panicked
                } else {
                    OutK::Cancelled
                };
                match *script {
                    _ if flaky => (now, bomb),
                    ActScript::Veto => (now + grace, bomb),
                    ActScript::PanicInStopping => (now, OutK::Panicked),
                    ActScript::Report { at, value, .. } => {
                        let reported = inc.start + ms(at);
                        if reported == now {
                            return Err(Unmodeled("a report at the stop"));
                        }
                        let o = if reported < now {
                            value.map_or(OutK::Failed, OutK::Completed)
                        } else {
                            OutK::Cancelled
                        };
                        (now, if *panic_on_drop { OutK::Panicked } else { o })
                    }
                    _ => (now, bomb),
                }
            }
            Body::Group { group, .. } if group.kind == GroupKind::Supervisor => {
                let Some(sim) = simulate(group, &c.name, inc.start, Some(now))? else {
                    unreachable!("a cancelled group ends")
                };
                let outcome = nested_outcome(group.kind, &sim);
                let end = sim.end;
                inc.nested = Some(sim);
                inc.natural = None;
                (end, outcome)
            }
            // A future that joins a `TaskGroup`: dropped, its group with it. What its group
            // did before (refused spawns) is what a cancel at the same instant would show.
            Body::Group { group, .. } => {
                let Some(mut sim) = simulate(group, &c.name, inc.start, Some(now))? else {
                    unreachable!("a cancelled group ends")
                };
                sim.refused.retain(|r| r.1 < now);
                inc.nested = Some(sim);
                (now, OutK::Cancelled)
            }
        };
        let nested_sup = matches!(&c.spec.body, Body::Group { group, .. } if group.kind == GroupKind::Supervisor);
        if at == now && !nested_sup {
            return self.incarnation_ended(i, outcome);
        }
        inc.stop_end = Some((at, outcome));
        Ok(())
    }

    pub(super) fn stop(&mut self, cause: Option<ErrK>) -> Sim<()> {
        if self.phase != Phase::Open {
            return Ok(());
        }
        self.phase = Phase::Stopping;
        self.cause = Some(cause);
        self.grace_end = Some(self.now + ms(self.spec.grace));
        for i in (0..self.children.len()).rev() {
            match &self.children[i].st {
                St::Queued | St::Backoff(_) => {
                    let outcome = OutK::Cancelled;
                    self.finalize(i, outcome, false)?;
                }
                St::Running(inc) if !inc.stop_asked => self.ask_stop(i, false)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// An incarnation of `i` ended at `now` with `outcome` (before the timeout's override).
    pub(super) fn incarnation_ended(&mut self, i: usize, mut outcome: OutK) -> Sim<()> {
        let c = &mut self.children[i];
        let St::Running(inc) = &c.st else {
            unreachable!()
        };
        if inc.timed_out && outcome != OutK::Panicked {
            outcome = OutK::TimedOut;
        }
        let nested = inc.nested.clone();
        if let Some(nested) = &nested {
            self.refused.extend(nested.refused.iter().cloned());
        }
        let nested_sup = matches!(&c.spec.body, Body::Group { group, .. } if group.kind == GroupKind::Supervisor);
        if nested_sup {
            c.last_nested = nested.clone();
        }
        c.st = St::Done;
        c.result = Some(SimChild {
            name: c.name.clone(),
            outcome,
            attempts: c.attempts,
            end: Some(self.now),
            nested: nested.filter(|_| {
                matches!(&c.spec.body, Body::Group { group, .. } if group.kind == GroupKind::Supervisor)
            }),
            best_effort: c.spec.best_effort,
        });
        if self.phase == Phase::Open && self.wants_restart(i, outcome) {
            return self.restart(i, outcome);
        }
        self.finalize(i, outcome, false)
    }

    fn wants_restart(&self, i: usize, outcome: OutK) -> bool {
        let spec = &self.children[i].spec;
        if spec.is_plain() {
            return false;
        }
        let restart = match spec.restart {
            RestartM::Temporary if spec.attempts.is_some_and(|n| n > 1) => RestartM::Transient,
            other => other,
        };
        let by_type = match restart {
            RestartM::Permanent => true,
            RestartM::Transient => outcome.is_failure(),
            RestartM::Temporary => false,
        };
        by_type && spec.attempts.is_none_or(|n| self.children[i].attempts < n)
    }

    fn restart(&mut self, i: usize, outcome: OutK) -> Sim<()> {
        let now = self.now;
        let window = ms(self.spec.window);
        while let Some(&oldest) = self.restarts.front() {
            if now - oldest > window {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.push_back(now);
        let keep = self.spec.max_restarts as usize + 1;
        while self.restarts.len() > keep {
            self.restarts.pop_front();
        }
        if self.restarts.len() as u32 > self.spec.max_restarts {
            return self.finalize(i, outcome, true);
        }
        if self.spec.strategy != StrategyM::OneForOne {
            let others = self.children.iter().enumerate().any(|(j, c)| {
                let eligible = match self.spec.strategy {
                    StrategyM::RestForOne => j > i,
                    _ => j != i,
                };
                eligible && matches!(c.st, St::Running(_) | St::Backoff(_))
            });
            if others {
                return Err(Unmodeled("a restart strategy with bystanders"));
            }
        }
        let delay = match self.spec.backoff {
            None => Duration::ZERO,
            Some(b) if b.jitter > 0.0 => return Err(Unmodeled("jitter")),
            Some(b) => {
                let c = &mut self.children[i];
                if c.last_start.is_some_and(|s| now - s >= ms(b.reset_after)) {
                    c.streak = 0;
                }
                c.streak += 1;
                let exponent = c.streak.saturating_sub(1).min(1024) as i32;
                let grown = ms(b.base).as_secs_f64() * b.factor.powi(exponent);
                let max = ms(b.max);
                let capped = if grown.is_finite() {
                    grown.min(max.as_secs_f64())
                } else {
                    max.as_secs_f64()
                };
                Duration::try_from_secs_f64(capped).unwrap_or(max)
            }
        };
        self.children[i].result = None;
        if delay.is_zero() {
            self.start_incarnation(i)?;
        } else {
            self.children[i].st = St::Backoff(now + delay);
        }
        Ok(())
    }

    /// `i` has ended for good.
    fn finalize(&mut self, i: usize, outcome: OutK, hit_limit: bool) -> Sim<()> {
        let now = self.now;
        let c = &mut self.children[i];
        let started = c.attempts > 0;
        let end = match &c.st {
            St::Queued => None,
            _ => Some(now),
        };
        c.result = None;
        let nested = c.last_nested.clone();
        c.result = Some(SimChild {
            name: c.name.clone(),
            outcome,
            attempts: c.attempts,
            end: if started { end } else { None },
            nested,
            best_effort: c.spec.best_effort,
        });
        c.st = St::Done;
        let significant = !c.spec.best_effort;
        let name = c.name.clone();
        let freed = std::mem::take(&mut c.holds_slot);
        if freed {
            self.running -= 1;
        }
        let mut failed = false;
        if hit_limit {
            self.failures.push((name, FailK::RestartLimit));
            failed = true;
        } else if outcome.is_failure() && significant {
            let kind = match outcome {
                OutK::Failed => FailK::Failed,
                OutK::Panicked => FailK::Panicked,
                _ => FailK::TimedOut,
            };
            self.failures.push((name, kind));
            failed = true;
        }
        if self.phase != Phase::Open {
            return Ok(());
        }
        if hit_limit {
            return self.stop(Some(ErrK::RestartLimit));
        }
        if failed && self.spec.policy == PolicyM::FailFast {
            return self.stop(Some(ErrK::Failed));
        }
        if matches!(outcome, OutK::Completed(_))
            && significant
            && self.spec.policy == PolicyM::FirstSuccess
            && !self.winner
        {
            self.winner = true;
            return self.stop(None);
        }
        if freed {
            while self.spec.limit.is_some_and(|n| self.running < n) {
                let Some(next) = self.queue.pop_front() else {
                    break;
                };
                if matches!(self.children[next].st, St::Queued) {
                    self.running += 1;
                    self.children[next].holds_slot = true;
                    self.start_incarnation(next)?;
                }
            }
        }
        Ok(())
    }
}
