//! A relay session's controls in the window ([`RelayControls`]): which way the send box
//! injects, the fault words being edited and why they were refused; and what its actions do
//! ([`App::perform_relay`]): hold, release and step go to the engine as commands, and so do
//! faults changed while the relay runs.

use crate::app::{App, Problem};
use crate::protocol::{Command, SessionId};
use crate::relay::{Leg, RelayFaults};
use crate::spec::SessionSpec;

/// What the window keeps of a relay session between frames.
#[derive(Clone, Debug)]
pub struct RelayControls {
    /// Which way the send box injects: toward the target (up) or the client (down).
    pub leg: Leg,
    /// The fault words being edited (`up.delay=100, slice=4`), applied by Apply.
    pub faults_text: String,
    /// Why the fault words were refused (the spec's own message).
    pub faults_error: Option<Problem>,
}

impl Default for RelayControls {
    fn default() -> Self {
        Self {
            leg: Leg::Up,
            faults_text: String::new(),
            faults_error: None,
        }
    }
}

/// What the user asked of a relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayAction {
    /// Hold (`true`) or release one direction.
    Hold(Leg, bool),
    /// Forward one held chunk of one direction (of the pair chosen in the send box, or of
    /// every pair).
    Step(Leg),
    /// Replace the faults by the edited words (holds are kept as they are).
    ApplyFaults,
}

impl App {
    /// Carries out a [`RelayAction`] on session `id`.
    pub fn perform_relay(&mut self, id: SessionId, action: RelayAction) {
        let Some(session) = self.sessions.get(id) else {
            return;
        };
        let (kind, in_force) = (session.spec.kind, session.faults);
        match action {
            RelayAction::Hold(leg, held) => {
                let mut faults = in_force;
                faults.leg_mut(leg).hold = held;
                self.set_faults(id, faults);
            }
            RelayAction::Step(leg) => {
                let target = self.view_of(id).target;
                self.command(Command::Step { id, target, leg });
            }
            RelayAction::ApplyFaults => {
                let view = self.view_of(id);
                match SessionSpec::parse_faults(kind, &view.relay.faults_text) {
                    Ok(mut faults) => {
                        view.relay.faults_error = None;
                        for leg in Leg::BOTH {
                            faults.leg_mut(leg).hold |= in_force.leg(leg).hold;
                        }
                        self.set_faults(id, faults);
                    }
                    Err(error) => view.relay.faults_error = Some(Problem::Form(error)),
                }
            }
        }
    }

    /// Gives a relay new faults: at once while it runs (the engine confirms them), and in
    /// its spec for its next start.
    fn set_faults(&mut self, id: SessionId, faults: RelayFaults) {
        let Some(session) = self.sessions.get_mut(id) else {
            return;
        };
        *session.spec.options.faults = faults;
        if session.is_active() {
            self.command(Command::SetFaults { id, faults });
        } else {
            session.faults = faults;
        }
    }
}
