//! Module timers under the stack's one timer id type: a module schedules its own ids, and
//! the bindings see them wrapped in [`StackTimerId`].

use super::StackTimerId;
use crate::context::{InstantContext, RngContext, TimerContext};
use crate::time::Instant;

/// The bindings' context seen by a module whose timer ids `Id` nest in [`StackTimerId`].
pub(super) struct ModuleTimers<'a, C>(pub(super) &'a mut C);

impl<C: InstantContext> InstantContext for ModuleTimers<'_, C> {
    fn now(&self) -> Instant {
        self.0.now()
    }
}

impl<C: RngContext> RngContext for ModuleTimers<'_, C> {
    fn random_u64(&mut self) -> u64 {
        self.0.random_u64()
    }
}

impl<Id: Copy, C: TimerContext<StackTimerId>> TimerContext<Id> for ModuleTimers<'_, C>
where
    StackTimerId: From<Id>,
{
    fn schedule_timer(&mut self, id: Id, at: Instant) -> Option<Instant> {
        self.0.schedule_timer(StackTimerId::from(id), at)
    }

    fn cancel_timer(&mut self, id: &Id) -> Option<Instant> {
        self.0.cancel_timer(&StackTimerId::from(*id))
    }

    fn scheduled_at(&self, id: &Id) -> Option<Instant> {
        self.0.scheduled_at(&StackTimerId::from(*id))
    }
}
