use std::time::Instant;
use std::path::{Path, PathBuf};
use std::os::unix::fs::MetadataExt;

fn walk(dir: &Path, out: &mut u64) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let ft = e.file_type().unwrap();
        if e.file_name() == ".git" { continue; }
        if ft.is_dir() { walk(&e.path(), out); } else {
            let m = e.metadata().unwrap();
            *out += m.size() + m.mtime() as u64;
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap());
    for _ in 0..3 {
        let t = Instant::now();
        let mut n = 0u64;
        walk(&root, &mut n);
        println!("1 thread walk+fstatat {:?}", t.elapsed());
        let t = Instant::now();
        let dirs: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir() && !p.ends_with(".git")).collect();
        let half = dirs.len() / 2;
        let (a, b) = dirs.split_at(half);
        std::thread::scope(|s| {
            let h = s.spawn(|| { let mut n = 0; for d in a { walk(d, &mut n) } n });
            let mut n2 = 0; for d in b { walk(d, &mut n2) }
            h.join().unwrap();
        });
        println!("2 threads walk+fstatat {:?}", t.elapsed());
        let t = Instant::now();
        let repo = gix::open(&root).unwrap();
        let idx = repo.index().unwrap();
        println!("open+index {:?} {}", t.elapsed(), idx.entries().len());
    }
}
