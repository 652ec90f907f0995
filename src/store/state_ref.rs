//! The run's state in git: after every transition the run folder is recorded as a commit on
//! `refs/swarm/runs/<id>` — its tree mirrors the folder (`run.status.json` at the root), built
//! from the files in process (no index, no worktree), and the ref moves with compare-and-swap
//! from the value the caller read. The ref's history is the run's audit log.
//!
//! Recorded: regular files (the tool's temporary files, lock files and anything that is not a
//! regular file or directory are left out; a symlink is never followed); files under `logs/`
//! up to their last [`LOG_CAP`] bytes. A stat cache in the run folder (`.state-cache`)
//! keeps unchanged files from being read and hashed again.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use super::RunDir;
pub(crate) use super::state_walk::LOG_CAP;
use super::state_walk::{Pending, flush, hashed, write_dir};
use crate::error::{Error, Result};

/// What the folder recorded last (its first line: the commit, its tree, the status file's stat
/// data — all that most commands read) and what each file hashed to, by its stat data (one
/// line a file).
const CACHE: &str = ".state-cache";
/// Present while the folder is being written from a state commit (`git swarm resume`).
pub(crate) const RESUMING: &str = ".state-resuming";

pub(crate) fn ref_name(id: &str) -> String {
    format!("refs/swarm/runs/{id}")
}

/// The state ref's value, if the run has one.
pub(crate) fn current(repo: &gix::Repository, id: &str) -> Option<ObjectId> {
    repo.find_reference(ref_name(id).as_str())
        .ok()?
        .peel_to_id()
        .ok()
        .map(|i| i.detach())
}

/// Stat data of a file: size, mtime and ctime in ns, inode.
pub(super) type Stat = (u64, i128, i128, u64);

#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Cache {
    /// path → (stat, blob)
    pub(super) files: BTreeMap<String, (Stat, ObjectId)>,
}

/// What the folder recorded last: small, read by every command that takes the run's lock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Head {
    /// The commit (written before the ref is moved to it).
    head: Option<String>,
    /// Its tree.
    #[serde(default)]
    tree: Option<String>,
    /// `run.status.json`'s stat data when it was recorded.
    status: Option<Stat>,
}

pub(super) fn stat_of(meta: &std::fs::Metadata) -> Stat {
    (
        meta.len(),
        meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
        meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
        meta.ino(),
    )
}

/// Writes a file of the folder's own bookkeeping: replaced by rename (a reader sees the old
/// or the new), not flushed to disk — like git's refs, it is as durable as the page cache,
/// and a lost or torn one only costs hashing the files again.
fn write_own(run: &RunDir, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = run.path.join(format!("{name}.tmp"));
    let target = run.path.join(name);
    std::fs::write(&tmp, bytes).map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, &target).map_err(|e| Error::io("replace", &target, e))
}

fn read_head(run: &RunDir) -> Head {
    use std::io::BufRead;
    let Ok(f) = std::fs::File::open(run.path.join(CACHE)) else {
        return Head::default();
    };
    let mut first = String::new();
    if std::io::BufReader::new(f).read_line(&mut first).is_err() {
        return Head::default();
    }
    serde_json::from_str(first.trim_end()).unwrap_or_default()
}

fn read_cache(run: &RunDir) -> Cache {
    let mut c = Cache::default();
    let Ok(text) = std::fs::read_to_string(run.path.join(CACHE)) else {
        return c;
    };
    for line in text.lines().skip(1) {
        let mut f = line.splitn(6, ' ');
        let parsed = (|| {
            let stat = (
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
                f.next()?.parse().ok()?,
            );
            let oid = ObjectId::from_hex(f.next()?.as_bytes()).ok()?;
            Some((f.next()?.to_string(), (stat, oid)))
        })();
        match parsed {
            Some((path, v)) => {
                c.files.insert(path, v);
            }
            // A torn cache is no cache.
            None => return Cache::default(),
        }
    }
    c
}

fn write_state(run: &RunDir, h: &Head, c: &Cache) -> Result<()> {
    let mut out = serde_json::to_string(h).map_err(|e| failed("serialise the head", e))?;
    out.push('\n');
    out.reserve(c.files.len() * 96);
    for (path, ((a, b, cc, d), oid)) in &c.files {
        use std::fmt::Write;
        // Into the one buffer: no string made per line.
        let _ = writeln!(out, "{a} {b} {cc} {d} {oid} {path}");
    }
    write_own(run, CACHE, out.as_bytes())
}

pub(super) fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::failure(format!(
        "could not record the run's state in git ({what}): {e}"
    ))
}

/// The value the state ref must have for this folder to record on it: the commit this folder
/// recorded last — or that commit's parent, when moving the ref to it was cut short. The ref
/// at anything else was moved by someone else (another machine, a person): refused, naming
/// the way back.
pub(crate) fn expected(repo: &gix::Repository, run: &RunDir) -> Result<Option<ObjectId>> {
    let now = current(repo, &run.id);
    let ours = head(run);
    let parent_of_ours = ours.and_then(|o| parent(repo, o));
    if now == ours || now == parent_of_ours || (ours.is_none() && now.is_none()) {
        return Ok(now);
    }
    Err(Error::refused(format!(
        "run {}'s state in git ({}) is not the one this folder recorded last: the run advanced elsewhere",
        run.id,
        ref_name(&run.id)
    ))
    .hint(format!("run 'git swarm resume {}' to take the state from git", run.id)))
}

/// Records the run folder as a commit on its state ref, whose value must still be `expected`
/// (`None`: the ref must not exist). Returns the new value (`expected` itself when nothing
/// changed). Fails, changing nothing, when the ref moved meanwhile.
pub(crate) fn record(
    repo: &gix::Repository,
    run: &RunDir,
    message: &str,
    expected: Option<ObjectId>,
) -> Result<ObjectId> {
    crate::trace::mark("state: record start");
    let out = record_inner(repo, run, message, expected);
    crate::trace::mark("state: recorded");
    out
}

fn record_inner(
    repo: &gix::Repository,
    run: &RunDir,
    message: &str,
    expected: Option<ObjectId>,
) -> Result<ObjectId> {
    let old = read_cache(run);
    let mut new = Cache::default();
    let mut pending = Pending::new();
    let tree = write_dir(
        repo.object_hash(),
        &run.path,
        "",
        &old,
        &mut new,
        &mut pending,
    )?
    .unwrap_or_else(|| ObjectId::empty_tree(repo.object_hash()));
    crate::trace::mark("state · tree written");
    let status = new.files.get("run.status.json").map(|(st, _)| *st);
    let recorded = read_head(run);
    if let Some(prev) = expected {
        // The tree the folder recorded last is known without reading the commit.
        let same = if recorded.head.as_deref() == Some(prev.to_string().as_str())
            && recorded.tree.is_some()
        {
            recorded.tree.as_deref() == Some(tree.to_string().as_str())
        } else {
            repo.find_object(prev)
                .ok()
                .and_then(|o| o.try_into_commit().ok())
                .and_then(|c| c.tree_id().ok())
                .is_some_and(|t| t.detach() == tree)
        };
        if same {
            let h = Head {
                head: Some(prev.to_string()),
                tree: Some(tree.to_string()),
                status,
            };
            if recorded != h || new != old {
                write_state(run, &h, &new)?;
            }
            return Ok(prev);
        }
    }
    let commit =
        super::state_tree::commit_object(tree, &expected.into_iter().collect::<Vec<_>>(), message);
    let mut buf = Vec::new();
    gix::objs::WriteTo::write_to(&commit, &mut buf).map_err(|e| failed("write the commit", e))?;
    let id = hashed(
        repo.object_hash(),
        gix::objs::Kind::Commit,
        buf,
        &mut pending,
    )?;
    flush(repo, pending)?;
    crate::trace::mark("state · objects written");
    // The folder knows its commit before the ref moves: a move cut short is recognised.
    write_state(
        run,
        &Head {
            head: Some(id.to_string()),
            tree: Some(tree.to_string()),
            status,
        },
        &new,
    )?;
    crate::trace::mark("state · head written");
    crate::failpoint!("state-ref-before");
    move_ref(repo, &run.id, expected, id, message)?;
    crate::failpoint!("state-ref-after");
    Ok(id)
}

/// Moves the state ref from `from` (`None`: it must not exist) to `to`, refusing when it
/// holds anything else.
pub(crate) fn move_ref(
    repo: &gix::Repository,
    id: &str,
    from: Option<ObjectId>,
    to: ObjectId,
    message: &str,
) -> Result<()> {
    use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
    let expected_value = match from {
        Some(o) => PreviousValue::MustExistAndMatch(gix::refs::Target::Object(o)),
        None => PreviousValue::MustNotExist,
    };
    let name: gix::refs::FullName = ref_name(id)
        .try_into()
        .map_err(|e| failed("name the ref", e))?;
    // The reflog's signature is git swarm's (see `state_tree::signature`).
    let who = super::state_tree::signature();
    let mut time = gix::date::parse::TimeBuf::default();
    repo.edit_references_as(
        Some(RefEdit {
            change: Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: false,
                    message: message.lines().next().unwrap_or_default().into(),
                },
                expected: expected_value,
                new: gix::refs::Target::Object(to),
            },
            name,
            deref: false,
        }),
        Some(who.to_ref(&mut time)),
    )
    .map_err(|e| {
        let lock = ref_lock(repo, id);
        if lock.is_file() {
            return Error::failure(format!(
                "run {id}'s state in git ({}) could not be moved: {} is in the way ({e})",
                ref_name(id),
                lock.display()
            ))
            .hint(format!(
                "if no git or git swarm command is working on run {id}, remove {} and run the command again",
                lock.display()
            ));
        }
        Error::refused(format!(
            "run {id}'s state in git ({}) moved while this step ran: {e}",
            ref_name(id)
        ))
        .hint(format!(
            "run 'git swarm resume {id}' to take the state from git"
        ))
    })?;
    Ok(())
}

/// The lock file of the state ref, as git and gix make it while they move the ref.
fn ref_lock(repo: &gix::Repository, id: &str) -> std::path::PathBuf {
    repo.common_dir().join(format!("{}.lock", ref_name(id)))
}

/// Makes `head` the commit this folder recorded last without a commit of its own (a folder
/// just taken from `head` and adapted to this machine: its paths): the stat cache is made
/// from the files as they are, so the next transition records from here.
pub(crate) fn adopt(repo: &gix::Repository, run: &RunDir, head: ObjectId) -> Result<()> {
    let mut new = Cache::default();
    let mut pending = Pending::new();
    write_dir(
        repo.object_hash(),
        &run.path,
        "",
        &Cache::default(),
        &mut new,
        &mut pending,
    )?;
    flush(repo, pending)?;
    write_state(
        run,
        &Head {
            head: Some(head.to_string()),
            tree: None,
            status: new.files.get("run.status.json").map(|(st, _)| *st),
        },
        &new,
    )
}

/// The commit this folder recorded last.
pub(crate) fn head(run: &RunDir) -> Option<ObjectId> {
    read_head(run)
        .head
        .and_then(|h| ObjectId::from_hex(h.as_bytes()).ok())
}

/// Makes the folder's recorded commit `head`, a commit of the folder as it is (the ref is
/// moved by the caller, after).
pub(crate) fn set_head(run: &RunDir, head: ObjectId) -> Result<()> {
    let mut h = read_head(run);
    h.head = Some(head.to_string());
    h.tree = None;
    write_state(run, &h, &read_cache(run))
}

/// Brings the state ref level with the folder after an interruption (called with the run's
/// lock held, before anything else): a ref move cut short is finished; a status written but
/// never recorded (killed between the two) is recorded now. Costs a stat and a ref read when
/// there is nothing to do.
pub(crate) fn catch_up(repo: &gix::Repository, run: &RunDir) -> Result<()> {
    crate::trace::mark("state: check start");
    let out = catch_up_inner(repo, run);
    crate::trace::mark("state: checked");
    out
}

fn catch_up_inner(repo: &gix::Repository, run: &RunDir) -> Result<()> {
    if let Ok(tip) = std::fs::read_to_string(run.path.join(RESUMING)) {
        return Err(Error::refused(format!(
            "taking run {} from git was cut short (at {}); its folder is half written",
            run.id,
            tip.trim()
        ))
        .hint(format!(
            "run 'git swarm resume {}' again to finish it",
            run.id
        )));
    }
    // A ref move killed half-way (this process's or a git's) leaves the ref's lock file. The
    // run's lock is held, so no other command of this run moves the ref now: one that no
    // process has open is the dead one's.
    let lock = ref_lock(repo, &run.id);
    if lock.is_file() && crate::git::locks::remove_if_stale(&lock) {
        crate::cli::style::note(format!(
            "removed {}, left when a move of run {}'s state in git was interrupted",
            lock.display(),
            run.id
        ));
    }
    let recorded = read_head(run);
    let Ok(meta) = std::fs::symlink_metadata(run.status_path()) else {
        return Ok(());
    };
    let ours = recorded
        .head
        .as_deref()
        .and_then(|h| ObjectId::from_hex(h.as_bytes()).ok());
    let now = current(repo, &run.id);
    if let Some(ours) = ours
        && now != Some(ours)
        && now == parent(repo, ours)
    {
        move_ref(repo, &run.id, now, ours, "finish a state update cut short")?;
    }
    if recorded.status != Some(stat_of(&meta)) {
        let expected = expected(repo, run)?;
        record(
            repo,
            run,
            "record the folder after an interruption",
            expected,
        )?;
    }
    Ok(())
}

fn parent(repo: &gix::Repository, commit: ObjectId) -> Option<ObjectId> {
    repo.find_object(commit)
        .ok()?
        .try_into_commit()
        .ok()?
        .parent_ids()
        .next()
        .map(|p| p.detach())
}
