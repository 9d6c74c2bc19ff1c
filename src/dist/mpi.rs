//! [`Collective`] over MPI (rsmpi). Exchanges are started non-blocking and polled, so that
//! a rank whose peers do not arrive within the timeout can stop the job (MPI_Abort)
//! instead of hanging in a blocking call; the poll sleeps between tests, which leaves the
//! cores to the other ranks and the GPU driver when ranks share a host.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mpi::collective::CommunicatorCollectives;
use mpi::datatype::Equivalence;
use mpi::environment::Universe;
use mpi::request::{Request, Scope};
use mpi::topology::{Communicator, SimpleCommunicator};

use super::Collective;

/// This process's place in the MPI job.
pub(super) struct Mpi {
    world: SimpleCommunicator,
    rank: usize,
    ranks: usize,
    local_rank: usize,
    timeout: Duration,
    /// Finalizes MPI when the last holder of the group drops it.
    _universe: Universe,
}

impl Mpi {
    /// Joins the job this process was started in by an MPI launcher.
    pub(super) fn init(timeout: Duration) -> Result<Mpi> {
        // Outside a launcher MPI would start a job of one, not the job the user meant.
        let launched = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        if !launched {
            anyhow::bail!(
                "data-parallel runs start one process per rank under an MPI launcher: \
                 mpirun -np N etaprobe train ... --distributed, or mpirun -np N etaprobe bench \
                 dist (srun --mpi=pmix on Slurm); see docs/distributed.md"
            );
        }
        let universe = mpi::initialize().context("MPI was initialized twice")?;
        let world = universe.world();
        let rank = world.rank();
        abort_on_panic(rank as usize, world.size() as usize);
        let _ = super::JOINED.set((rank as usize, world.size() as usize));
        // The ranks that share this host, ordered by their rank in the job.
        let local_rank = world.split_shared(rank).rank();
        Ok(Mpi {
            rank: rank as usize,
            ranks: world.size() as usize,
            local_rank: local_rank as usize,
            world,
            timeout,
            _universe: universe,
        })
    }

    /// Every rank's `values` (the same length on each), concatenated in rank order.
    /// Waits up to `timeout` for the other ranks.
    fn gather<T: Equivalence + Copy + Default>(
        &self,
        what: &str,
        values: &[T],
        timeout: Duration,
    ) -> Vec<T> {
        let mut out = vec![T::default(); values.len() * self.ranks];
        mpi::request::scope(|scope| {
            let request = self
                .world
                .immediate_all_gather_into(scope, values, &mut out[..]);
            self.finish(what, request, timeout);
        });
        out
    }

    /// Polls `request` until it completes; past `timeout`, stops the job.
    fn finish<'a, D: ?Sized, S: Scope<'a>>(
        &self,
        what: &str,
        mut request: Request<'a, D, S>,
        timeout: Duration,
    ) {
        let started = Instant::now();
        let mut pause = Duration::from_micros(5);
        loop {
            match request.test() {
                Ok(_) => return,
                Err(pending) => request = pending,
            }
            if started.elapsed() > timeout {
                let why = match timeout > self.timeout {
                    true => {
                        "a rank failed or hangs in its set-up, which may take 30 minutes \
                             or --collective-timeout when longer"
                    }
                    false => "a rank failed, hangs, or is far slower; see --collective-timeout",
                };
                self.abort(
                    &format!(
                        "rank {} of {}: the other ranks did not join the {what} exchange \
                         within {} s ({why}); stopping every rank",
                        self.rank,
                        self.ranks,
                        timeout.as_secs_f64()
                    ),
                    3,
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_micros(500));
        }
    }
}

/// Makes a panic on any thread of this rank stop the whole job at once: it prints the panic
/// with the rank and calls MPI_Abort. Unwinding instead would drop the [`Universe`], whose
/// MPI_Finalize waits for the other ranks, which wait in their next exchange until the
/// collective timeout.
fn abort_on_panic(rank: usize, ranks: usize) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Before MPI_Init or after MPI_Finalize there is no job to abort.
        if !mpi::environment::is_initialized() || mpi::environment::is_finalized() {
            return previous(info);
        }
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or("unnamed");
        eprintln!("error: rank {rank} of {ranks}: thread '{thread}' {info}; stopping every rank");
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            eprintln!("{backtrace}");
        }
        // 101: the exit code of a Rust program that panicked.
        SimpleCommunicator::world().abort(101)
    }));
}

impl Collective for Mpi {
    fn rank(&self) -> usize {
        self.rank
    }

    fn ranks(&self) -> usize {
        self.ranks
    }

    fn local_rank(&self) -> usize {
        self.local_rank
    }

    fn all_gather(&self, what: &str, values: &[f64]) -> Vec<f64> {
        self.gather(what, values, self.timeout)
    }

    fn all_gather_waiting(&self, what: &str, values: &[f64], wait: Duration) -> Vec<f64> {
        self.gather(what, values, wait.max(self.timeout))
    }

    fn all_gather_f32(&self, what: &str, block: &[f32]) -> Vec<f32> {
        self.gather(what, block, self.timeout)
    }

    fn all_to_all_f32(&self, what: &str, send: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; send.len()];
        mpi::request::scope(|scope| {
            let request = self
                .world
                .immediate_all_to_all_into(scope, send, &mut out[..]);
            self.finish(what, request, self.timeout);
        });
        out
    }

    fn abort(&self, message: &str, code: i32) -> ! {
        eprintln!("error: {message}");
        self.world.abort(code)
    }
}
