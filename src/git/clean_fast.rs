//! The fast clean-tree check: one parallel walk of the work tree that compares each tracked
//! file's `fstatat` data with its index entry and looks for untracked files in the same pass.
//!
//! `git status` walks twice (a parallel `lstat` of every indexed path, then a directory walk for
//! untracked files), resolving every path from the root. Walking each directory once and
//! stat-ing its entries relative to the open directory does less work; on a 100,000-file tree it
//! is faster than `git status --porcelain` (see BENCHMARKS.md). Exactness is kept by handing
//! every entry whose stat data is inconclusive (changed times, racily clean) to gix's own
//! index-worktree comparison, and by falling back to the full gix status for index features
//! this walk does not model (submodules, sparse or split indexes, skip-worktree entries,
//! case-insensitive file systems).

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gix::bstr::ByteSlice;
use gix::index::entry::{Flags, Mode, Stat};

use super::clean::Dirt;

/// Stop looking after this many findings.
const ENOUGH: usize = 20;
/// More inconclusive entries than this: let the full status decide (and be as slow as git).
const MAX_UNCERTAIN: usize = 2000;

struct Job {
    /// Repository-relative directory with a trailing '/', or empty for the root.
    prefix: Vec<u8>,
    /// The index entries below this directory (empty for an untracked directory).
    lo: usize,
    hi: usize,
    tracked: bool,
}

enum Kind {
    File(usize),
    Dir(usize, usize),
}

struct Shared<'a> {
    workdir: &'a Path,
    state: &'a gix::index::State,
    opts: gix::index::entry::stat::Options,
    timestamp: gix::index::entry::stat::Time,
    filemode: bool,
    count_untracked: bool,
    queue: Mutex<Vec<Job>>,
    in_flight: AtomicUsize,
    stop: AtomicBool,
    dirt: Mutex<Vec<Dirt>>,
    uncertain: Mutex<Vec<usize>>,
}

/// `Ok(None)` when this repository needs the full status.
pub(crate) fn dirt(
    repo: &gix::Repository,
    count_untracked: bool,
) -> Result<Option<Vec<Dirt>>, String> {
    let Some(workdir) = repo.workdir() else {
        return Ok(None);
    };
    let cfg = repo.config_snapshot();
    if cfg.boolean("core.ignoreCase") == Some(true) || cfg.boolean("core.fsmonitor") == Some(true) {
        return Ok(None);
    }
    let filemode = cfg.boolean("core.fileMode").unwrap_or(true);
    // Like git (which verifies the index checksum only in fsck), the checksum is not
    // verified: hashing a 10 MB index costs more than the rest of the check.
    let index_path = repo.index_path();
    if !index_path.exists() {
        return Ok(None);
    }
    let index = gix::index::File::at(&index_path, repo.object_hash(), true, Default::default())
        .map_err(|e| format!("cannot read the index {}: {e}", index_path.display()))?;
    crate::trace::mark("clean: index read");
    let state: &gix::index::State = &index;
    if state.is_sparse() || state.link().is_some() {
        return Ok(None);
    }
    let mut found = Vec::new();
    for e in state.entries() {
        if e.mode.is_submodule() || e.mode.is_sparse() || e.flags.contains(Flags::SKIP_WORKTREE) {
            return Ok(None);
        }
        let kind = if e.stage_raw() != 0 {
            "conflict"
        } else if e.flags.contains(Flags::INTENT_TO_ADD) {
            "intent-to-add"
        } else {
            continue;
        };
        found.push(Dirt {
            kind,
            path: e.path(state).to_str_lossy().into_owned(),
        });
    }
    if !found.is_empty() {
        return Ok(Some(found));
    }
    if let Some(staged) = staged(repo, state)? {
        return Ok(Some(vec![staged]));
    }

    crate::trace::mark("clean: staged check");
    let opts = repo.stat_options().map_err(|e| e.to_string())?;
    let ts = state.timestamp();
    let shared = Shared {
        workdir,
        state,
        opts,
        timestamp: gix::index::entry::stat::Time {
            secs: ts.unix_seconds() as u32,
            nsecs: ts.nanoseconds(),
        },
        filemode,
        count_untracked,
        queue: Mutex::new(vec![Job {
            prefix: Vec::new(),
            lo: 0,
            hi: state.entries().len(),
            tracked: true,
        }]),
        in_flight: AtomicUsize::new(1),
        stop: AtomicBool::new(false),
        dirt: Mutex::new(Vec::new()),
        uncertain: Mutex::new(Vec::new()),
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let sync_repo = repo.clone().into_sync();
    let errors: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let local = sync_repo.to_thread_local();
                if let Err(e) = worker(&shared, &local) {
                    *errors.lock().expect("not poisoned") = Some(e);
                    shared.stop.store(true, Ordering::SeqCst);
                }
            });
        }
    });
    crate::trace::mark("clean: walk");
    if let Some(e) = errors.into_inner().expect("not poisoned") {
        return Err(e);
    }
    let mut out = shared.dirt.into_inner().expect("not poisoned");
    let uncertain = shared.uncertain.into_inner().expect("not poisoned");
    if out.len() < ENOUGH && !uncertain.is_empty() {
        if uncertain.len() > MAX_UNCERTAIN {
            return Ok(None);
        }
        out.extend(settle(repo, state, &uncertain)?);
    }
    Ok(Some(out))
}

/// Is the index different from `HEAD`? A valid cache-tree whose root is `HEAD`'s tree proves
/// it is not, without reading a single tree object; otherwise the trees are compared.
fn staged(repo: &gix::Repository, state: &gix::index::State) -> Result<Option<Dirt>, String> {
    let head_tree = repo
        .head_tree_id_or_empty()
        .map_err(|e| e.to_string())?
        .detach();
    if let Some(t) = state.tree()
        && t.num_entries.is_some()
        && t.id == head_tree
    {
        return Ok(None);
    }
    let mut first: Option<Dirt> = None;
    repo.tree_index_status(
        &head_tree,
        state,
        None,
        gix::status::tree_index::TrackRenames::Disabled,
        |change, _, _| {
            first = Some(Dirt {
                kind: "staged",
                path: change.location().to_str_lossy().into_owned(),
            });
            Ok(std::ops::ControlFlow::Break(()))
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(first)
}

/// Lets gix decide the entries whose stat data could not: it compares content (with the
/// configured filters) and reports only real modifications.
fn settle(
    repo: &gix::Repository,
    state: &gix::index::State,
    idx: &[usize],
) -> Result<Vec<Dirt>, String> {
    let patterns: Vec<gix::bstr::BString> = idx
        .iter()
        .map(|i| {
            let mut p = gix::bstr::BString::from(":(literal)");
            p.extend_from_slice(state.entries()[*i].path(state));
            p
        })
        .collect();
    let iter = repo
        .status(gix::progress::Discard)
        .map_err(|e| e.to_string())?
        .untracked_files(gix::status::UntrackedFiles::None)
        .index_worktree_rewrites(None)
        .into_index_worktree_iter(patterns)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for item in iter {
        let item = item.map_err(|e| e.to_string())?;
        if item.summary().is_some() {
            out.push(Dirt {
                kind: "modified",
                path: item.rela_path().to_str_lossy().into_owned(),
            });
            if out.len() >= ENOUGH {
                break;
            }
        }
    }
    Ok(out)
}

fn worker(sh: &Shared, repo: &gix::Repository) -> Result<(), String> {
    // The ignore stack is built on first need: a clean tree without untracked candidates never
    // reads a .gitignore.
    let mut excludes: Option<gix::AttributeStack<'_>> = None;
    loop {
        if sh.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let job = sh.queue.lock().expect("not poisoned").pop();
        let Some(job) = job else {
            if sh.in_flight.load(Ordering::SeqCst) == 0 {
                return Ok(());
            }
            std::thread::yield_now();
            continue;
        };
        let result = if job.tracked {
            tracked_dir(sh, repo, &mut excludes, &job)
        } else {
            untracked_dir(sh, repo, &mut excludes, &job)
        };
        sh.in_flight.fetch_sub(1, Ordering::SeqCst);
        result?;
    }
}

fn push_job(sh: &Shared, job: Job) {
    sh.in_flight.fetch_add(1, Ordering::SeqCst);
    sh.queue.lock().expect("not poisoned").push(job);
}

fn report(sh: &Shared, kind: &'static str, path: &[u8]) {
    let mut d = sh.dirt.lock().expect("not poisoned");
    d.push(Dirt {
        kind,
        path: path.to_str_lossy().into_owned(),
    });
    if d.len() >= ENOUGH {
        sh.stop.store(true, Ordering::SeqCst);
    }
}

/// `.swarm/runs` is the tool's own state and never counts.
fn skipped(prefix: &[u8], name: &[u8]) -> bool {
    prefix == b".swarm/" && name == b"runs"
}

fn is_excluded<'r>(
    repo: &'r gix::Repository,
    sh: &Shared,
    excludes: &mut Option<gix::AttributeStack<'r>>,
    rel: &[u8],
    is_dir: bool,
) -> Result<bool, String> {
    if excludes.is_none() {
        *excludes = Some(
            repo.excludes(
                sh.state,
                None,
                gix::worktree::stack::state::ignore::Source::WorktreeThenIdMappingIfNotSkipped,
            )
            .map_err(|e| e.to_string())?,
        );
    }
    let stack = excludes.as_mut().expect("just set");
    let platform = stack
        .at_path(
            Path::new(std::ffi::OsStr::from_bytes(rel)),
            Some(if is_dir { Mode::DIR } else { Mode::FILE }),
        )
        .map_err(|e| e.to_string())?;
    Ok(platform.is_excluded())
}

/// The direct children a directory has in the index, sorted by name.
fn children<'s>(
    state: &'s gix::index::State,
    prefix: &[u8],
    lo: usize,
    hi: usize,
) -> Vec<(&'s [u8], Kind)> {
    let entries = state.entries();
    let mut out = Vec::new();
    let mut i = lo;
    while i < hi {
        let path: &[u8] = entries[i].path(state);
        let rest = &path[prefix.len()..];
        match rest.iter().position(|b| *b == b'/') {
            None => {
                out.push((rest, Kind::File(i)));
                i += 1;
            }
            Some(slash) => {
                let name = &rest[..slash];
                let sub_len = prefix.len() + slash + 1;
                // Entries below `name/` are contiguous in the sorted index: find the end by
                // bisection instead of scanning the whole subtree.
                let sub = &path[..sub_len];
                let j =
                    i + 1 + entries[i + 1..hi].partition_point(|e| e.path(state).starts_with(sub));
                out.push((name, Kind::Dir(i, j)));
                i = j;
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(prefix.len() + name.len() + 1);
    v.extend_from_slice(prefix);
    v.extend_from_slice(name);
    v
}

fn tracked_dir<'r>(
    sh: &Shared,
    repo: &'r gix::Repository,
    excludes: &mut Option<gix::AttributeStack<'r>>,
    job: &Job,
) -> Result<(), String> {
    let kids = children(sh.state, &job.prefix, job.lo, job.hi);
    let mut seen = vec![false; kids.len()];
    let dir = sh.workdir.join(std::ffi::OsStr::from_bytes(&job.prefix));
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut uncertain = Vec::new();
    for de in entries {
        let de = de.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let name_os = de.file_name();
        let name = name_os.as_bytes();
        if job.prefix.is_empty() && name == b".git" {
            continue;
        }
        if skipped(&job.prefix, name) {
            continue;
        }
        let ft = de.file_type().map_err(|e| e.to_string())?;
        match kids.binary_search_by(|k| k.0.cmp(name)) {
            Ok(i) => {
                seen[i] = true;
                match kids[i].1 {
                    Kind::File(idx) => {
                        let e = &sh.state.entries()[idx];
                        if e.flags.contains(Flags::ASSUME_VALID) {
                            continue;
                        }
                        if ft.is_dir() {
                            report(sh, "modified", &join(&job.prefix, name));
                            continue;
                        }
                        let meta = de.metadata().map_err(|e| e.to_string())?;
                        let mode_ok = if e.mode == Mode::SYMLINK {
                            ft.is_symlink()
                        } else {
                            ft.is_file()
                                && (!sh.filemode
                                    || ((meta.mode() & 0o100) != 0)
                                        == (e.mode == Mode::FILE_EXECUTABLE))
                        };
                        let stat = Stat {
                            mtime: gix::index::entry::stat::Time {
                                secs: meta.mtime() as u32,
                                nsecs: meta.mtime_nsec() as u32,
                            },
                            ctime: gix::index::entry::stat::Time {
                                secs: meta.ctime() as u32,
                                nsecs: meta.ctime_nsec() as u32,
                            },
                            dev: meta.dev() as u32,
                            ino: meta.ino() as u32,
                            uid: meta.uid(),
                            gid: meta.gid(),
                            size: meta.size() as u32,
                        };
                        let racy = e.stat.mtime.secs > sh.timestamp.secs
                            || (e.stat.mtime.secs == sh.timestamp.secs
                                && (!(sh.opts.use_nsec && sh.opts.check_stat)
                                    || e.stat.mtime.nsecs >= sh.timestamp.nsecs));
                        if !mode_ok || !e.stat.matches(&stat, sh.opts) || racy {
                            uncertain.push(idx);
                        }
                    }
                    Kind::Dir(lo, hi) => {
                        let rel = join(&job.prefix, name);
                        if ft.is_dir() {
                            push_job(
                                sh,
                                Job {
                                    prefix: join(&rel, b"/"),
                                    lo,
                                    hi,
                                    tracked: true,
                                },
                            );
                        } else {
                            report(sh, "modified", &rel);
                        }
                    }
                }
            }
            Err(_) => {
                if !sh.count_untracked {
                    continue;
                }
                let rel = join(&job.prefix, name);
                if is_excluded(repo, sh, excludes, &rel, ft.is_dir())? {
                    continue;
                }
                if ft.is_dir() {
                    push_job(
                        sh,
                        Job {
                            prefix: join(&rel, b"/"),
                            lo: 0,
                            hi: 0,
                            tracked: false,
                        },
                    );
                } else {
                    report(sh, "untracked", &rel);
                }
            }
        }
    }
    for (i, k) in kids.iter().enumerate() {
        if seen[i] {
            continue;
        }
        match k.1 {
            Kind::File(idx) => {
                if !sh.state.entries()[idx].flags.contains(Flags::ASSUME_VALID) {
                    report(sh, "deleted", &join(&job.prefix, k.0));
                }
            }
            Kind::Dir(lo, _) => report(sh, "deleted", sh.state.entries()[lo].path(sh.state)),
        }
    }
    if !uncertain.is_empty() {
        let mut u = sh.uncertain.lock().expect("not poisoned");
        u.extend(uncertain);
        if u.len() > MAX_UNCERTAIN {
            sh.stop.store(true, Ordering::SeqCst);
        }
    }
    Ok(())
}

/// An untracked directory counts (once, as `dir/`) when it holds a file that is not ignored,
/// or is a nested repository.
fn untracked_dir<'r>(
    sh: &Shared,
    repo: &'r gix::Repository,
    excludes: &mut Option<gix::AttributeStack<'r>>,
    job: &Job,
) -> Result<(), String> {
    let dir = sh.workdir.join(std::ffi::OsStr::from_bytes(&job.prefix));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    let mut subdirs = Vec::new();
    for de in entries.flatten() {
        let name_os = de.file_name();
        let name = name_os.as_bytes();
        if name == b".git" {
            report(sh, "untracked", &job.prefix);
            return Ok(());
        }
        if skipped(&job.prefix, name) {
            continue;
        }
        let rel = join(&job.prefix, name);
        let is_dir = de.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_excluded(repo, sh, excludes, &rel, is_dir)? {
            continue;
        }
        if is_dir {
            subdirs.push(rel);
        } else {
            report(sh, "untracked", &job.prefix);
            return Ok(());
        }
    }
    for d in subdirs {
        push_job(
            sh,
            Job {
                prefix: join(&d, b"/"),
                lo: 0,
                hi: 0,
                tracked: false,
            },
        );
    }
    Ok(())
}
