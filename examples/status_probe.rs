use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    for _ in 0..5 {
        let t = Instant::now();
        let repo = gix::open(&path).unwrap();
        let t1 = t.elapsed();
        let d = git_swarm::git::clean::dirt(&repo, true).unwrap();
        println!("open {:?} total {:?} dirt={}", t1, t.elapsed(), d.len());
    }
    let t = Instant::now();
    let _ = std::process::Command::new("git").args(["-C", &path, "status", "--porcelain"]).output();
    println!("git status {:?}", t.elapsed());
}
