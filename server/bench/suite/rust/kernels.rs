// The suite's Rust kernels (no crates), compiled to WebAssembly by
// `pyplay build` with Debian's rustc:
//
//   /usr/bin/rustc --target wasm32-unknown-unknown -O --crate-type cdylib kernels.rs
//
// They mirror snippets/examples/suite-*.py and ../kernels.go line for line
// (same loops, same float operations in the same order), so the checksums
// agree to the last digit. Each workload is an export named by its ID,
// taking the size and returning the length of its checksum, which it has
// written as UTF-8 at out_ptr(). Rust never fuses a multiply and an add
// unless asked to (mul_add), so no care is needed for that here.
use std::collections::HashMap;

static mut OUT: [u8; 256] = [0; 256];

fn emit(s: String) -> u32 {
    let b = s.as_bytes();
    let n = b.len().min(256);
    unsafe {
        OUT[..n].copy_from_slice(&b[..n]);
    }
    n as u32
}

#[no_mangle]
pub extern "C" fn out_ptr() -> *const u8 {
    unsafe { OUT.as_ptr() }
}

// --- fib ---

fn fib_rec(n: i64) -> i64 {
    if n < 2 {
        return n;
    }
    fib_rec(n - 1) + fib_rec(n - 2)
}

#[no_mangle]
pub extern "C" fn fib(n: u32) -> u32 {
    emit(format!("{}", fib_rec(n as i64)))
}

// --- n-body ---

fn bodies() -> Vec<[f64; 7]> {
    let pi = 3.141592653589793_f64;
    let dpy = 365.24_f64;
    let sm = 4.0 * pi * pi;
    vec![
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, sm],
        [4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
         1.66007664274403694e-03 * dpy, 7.69901118419740425e-03 * dpy,
         -6.90460016972063023e-05 * dpy, 9.54791938424326609e-04 * sm],
        [8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
         -2.76742510726862411e-03 * dpy, 4.99852801234917238e-03 * dpy,
         2.30417297573763929e-05 * dpy, 2.85885980666130812e-04 * sm],
        [1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
         2.96460137564761618e-03 * dpy, 2.37847173959480950e-03 * dpy,
         -2.96589568540237556e-05 * dpy, 4.36624404335156298e-05 * sm],
        [1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
         2.68067772490389322e-03 * dpy, 1.62824170038242295e-03 * dpy,
         -9.51592254519715870e-05 * dpy, 5.15138902046611451e-05 * sm],
    ]
}

fn energy(b: &Vec<[f64; 7]>) -> f64 {
    let mut e = 0.0;
    for i in 0..b.len() {
        let bi = b[i];
        e += 0.5 * bi[6] * (bi[3] * bi[3] + bi[4] * bi[4] + bi[5] * bi[5]);
        for j in (i + 1)..b.len() {
            let bj = b[j];
            let dx = bi[0] - bj[0];
            let dy = bi[1] - bj[1];
            let dz = bi[2] - bj[2];
            e -= bi[6] * bj[6] / (dx * dx + dy * dy + dz * dz).sqrt();
        }
    }
    e
}

#[no_mangle]
pub extern "C" fn nbody(n: u32) -> u32 {
    let mut b = bodies();
    let sm = b[0][6];
    let mut px = 0.0;
    let mut py = 0.0;
    let mut pz = 0.0;
    for bi in b.iter() {
        px += bi[3] * bi[6];
        py += bi[4] * bi[6];
        pz += bi[5] * bi[6];
    }
    b[0][3] = -px / sm;
    b[0][4] = -py / sm;
    b[0][5] = -pz / sm;
    let e0 = energy(&b);
    let dt = 0.01;
    let len = b.len();
    for _ in 0..n {
        for i in 0..len {
            for j in (i + 1)..len {
                let (l, r) = b.split_at_mut(j);
                let bi = &mut l[i];
                let bj = &mut r[0];
                let dx = bi[0] - bj[0];
                let dy = bi[1] - bj[1];
                let dz = bi[2] - bj[2];
                let d2 = dx * dx + dy * dy + dz * dz;
                let mag = dt / (d2 * d2.sqrt());
                let mi = bi[6] * mag;
                let mj = bj[6] * mag;
                bi[3] -= dx * mj;
                bi[4] -= dy * mj;
                bi[5] -= dz * mj;
                bj[3] += dx * mi;
                bj[4] += dy * mi;
                bj[5] += dz * mi;
            }
        }
        for bi in b.iter_mut() {
            bi[0] += dt * bi[3];
            bi[1] += dt * bi[4];
            bi[2] += dt * bi[5];
        }
    }
    emit(format!("{:.9} {:.9}", e0, energy(&b)))
}

// --- spectral norm ---

fn eval_a(i: usize, j: usize) -> f64 {
    1.0 / (((i + j) * (i + j + 1) / 2 + i + 1) as f64)
}

fn mul_av(n: usize, v: &[f64], out: &mut [f64]) {
    for i in 0..n {
        let mut s = 0.0;
        for j in 0..n {
            s += eval_a(i, j) * v[j];
        }
        out[i] = s;
    }
}

fn mul_atv(n: usize, v: &[f64], out: &mut [f64]) {
    for i in 0..n {
        let mut s = 0.0;
        for j in 0..n {
            s += eval_a(j, i) * v[j];
        }
        out[i] = s;
    }
}

fn mul_atav(n: usize, v: &[f64], out: &mut [f64], tmp: &mut [f64]) {
    mul_av(n, v, tmp);
    mul_atv(n, tmp, out);
}

#[no_mangle]
pub extern "C" fn spectralnorm(n: u32) -> u32 {
    let n = n as usize;
    let mut u = vec![1.0_f64; n];
    let mut v = vec![0.0_f64; n];
    let mut tmp = vec![0.0_f64; n];
    for _ in 0..10 {
        mul_atav(n, &u, &mut v, &mut tmp);
        mul_atav(n, &v, &mut u, &mut tmp);
    }
    let mut vbv = 0.0;
    let mut vv = 0.0;
    for i in 0..n {
        vbv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    emit(format!("{:.9}", (vbv / vv).sqrt()))
}

// --- fannkuch ---

#[no_mangle]
pub extern "C" fn fannkuch(n: u32) -> u32 {
    let n = n as usize;
    if n < 1 {
        return emit(String::from("0 0"));
    }
    let mut perm1: Vec<usize> = (0..n).collect();
    let mut perm = vec![0usize; n];
    let mut count = vec![0usize; n];
    let mut max_flips: i64 = 0;
    let mut checksum: i64 = 0;
    let mut perm_count: i64 = 0;
    let mut r = n;
    loop {
        while r != 1 {
            count[r - 1] = r;
            r -= 1;
        }
        perm.copy_from_slice(&perm1);
        let mut flips: i64 = 0;
        let mut k = perm[0];
        while k != 0 {
            let mut i = 0;
            let mut j = k;
            while i < j {
                perm.swap(i, j);
                i += 1;
                j -= 1;
            }
            flips += 1;
            k = perm[0];
        }
        if flips > max_flips {
            max_flips = flips;
        }
        if perm_count % 2 == 0 {
            checksum += flips;
        } else {
            checksum -= flips;
        }
        loop {
            if r == n {
                return emit(format!("{} {}", checksum, max_flips));
            }
            let perm0 = perm1[0];
            for i in 0..r {
                perm1[i] = perm1[i + 1];
            }
            perm1[r] = perm0;
            count[r] -= 1;
            if count[r] > 0 {
                break;
            }
            r += 1;
        }
        perm_count += 1;
    }
}

// --- binary trees ---

struct Node {
    left: Option<Box<Node>>,
    right: Option<Box<Node>>,
}

fn make_tree(depth: u32) -> Box<Node> {
    if depth == 0 {
        return Box::new(Node { left: None, right: None });
    }
    Box::new(Node { left: Some(make_tree(depth - 1)), right: Some(make_tree(depth - 1)) })
}

fn check_tree(t: &Node) -> i64 {
    match (&t.left, &t.right) {
        (Some(l), Some(r)) => 1 + check_tree(l) + check_tree(r),
        _ => 1,
    }
}

#[no_mangle]
pub extern "C" fn binarytrees(n: u32) -> u32 {
    let long_lived = make_tree(n);
    let mut total: i64 = 0;
    let mut depth = 4;
    while depth <= n {
        let iterations = 1u64 << (n - depth + 4);
        for _ in 0..iterations {
            total += check_tree(&make_tree(depth));
        }
        depth += 2;
    }
    total += check_tree(&long_lived);
    emit(format!("{}", total))
}

// --- word count ---

const SYLLABLES: [&str; 8] = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to"];

#[no_mangle]
pub extern "C" fn dictstr(n: u32) -> u32 {
    let mut seed: i64 = 42;
    let mut words: Vec<String> = Vec::with_capacity(n as usize);
    for _ in 0..n {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        let mut s = seed >> 8;
        let mut word = String::new();
        let k = 1 + s % 3;
        s = s / 3;
        for _ in 0..k {
            word += SYLLABLES[(s % 8) as usize];
            s = s / 8;
        }
        words.push(word);
    }
    let text = words.join(" ");
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for w in text.split(' ') {
        *counts.entry(w).or_insert(0) += 1;
    }
    let mut keys: Vec<&str> = counts.keys().copied().collect();
    keys.sort();
    let mut total: i64 = 0;
    let mut best = "";
    let mut best_count: i64 = 0;
    for w in keys {
        let c = counts[w];
        total += c * w.len() as i64;
        if c > best_count {
            best = w;
            best_count = c;
        }
    }
    emit(format!("{} {} {} {}", counts.len(), total, best, best_count))
}
