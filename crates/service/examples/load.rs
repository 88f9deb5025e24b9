//! A small load generator for `bench/serve.sh`: HTTP/1.1 keep-alive over
//! plain TCP, std only.
//!
//! `load single URL CLAIMS RATE SECONDS CONNECTIONS`: POSTs one claim at a
//! time to `URL/v1/claims/evaluate` at a fixed total rate (open loop: each
//! request's latency is measured from when it was due, so a stall is not
//! hidden), each claim once with a fresh id; prints throughput and p50/p99.
//! `load batch URL CLAIMS ROUNDS`: POSTs the whole file to
//! `URL/v1/claims/batch` ROUNDS times (ids made fresh per round); prints
//! claims per second.
//!
//! URL may be several, comma-separated (service processes sharing one
//! history, `bench/scale.sh`): `single` spreads its connections over them,
//! `batch` sends ROUNDS rounds to each at once, from a thread per URL; with
//! a fifth argument `disjoint`, each URL's claims are of members of its own
//! (member ids prefixed), so that no two processes share a member.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a benchmark tool: a failure stops it with the value that surprised it"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn connect(addr: &str) -> (BufReader<TcpStream>, TcpStream) {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).unwrap();
    (BufReader::new(stream.try_clone().unwrap()), stream)
}

/// Sends one POST and reads the response; returns its status.
fn post(conn: &mut (BufReader<TcpStream>, TcpStream), host: &str, path: &str, body: &[u8]) -> u16 {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.1.write_all(head.as_bytes()).unwrap();
    conn.1.write_all(body).unwrap();
    let mut line = String::new();
    conn.0.read_line(&mut line).unwrap();
    let status: u16 = line.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        conn.0.read_line(&mut line).unwrap();
        let l = line.trim_end().to_ascii_lowercase();
        if l.is_empty() {
            break;
        }
        if let Some(v) = l.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        }
        if l.starts_with("transfer-encoding:") && l.contains("chunked") {
            chunked = true;
        }
    }
    if chunked {
        loop {
            line.clear();
            conn.0.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            conn.0.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
        }
    } else if let Some(n) = length {
        let mut rest = vec![0; n];
        conn.0.read_exact(&mut rest).unwrap();
    }
    status
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args[1].as_str();
    let urls: Vec<String> = args[2]
        .split(',')
        .map(|u| u.trim_start_matches("http://").to_string())
        .collect();
    let claims: Vec<String> = std::fs::read_to_string(&args[3])
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"lines\""))
        .map(str::to_string)
        .collect();
    match mode {
        "single" => {
            let rate: f64 = args[4].parse().unwrap();
            let seconds: f64 = args[5].parse().unwrap();
            let connections: usize = args[6].parse().unwrap();
            let total = (rate * seconds) as usize;
            let interval = Duration::from_secs_f64(connections as f64 / rate);
            let start = Instant::now() + Duration::from_millis(100);
            let threads: Vec<_> = (0..connections)
                .map(|c| {
                    let url = urls[c % urls.len()].clone();
                    let claims = claims.clone();
                    std::thread::spawn(move || {
                        let mut conn = connect(&url);
                        let mut latencies = Vec::new();
                        let mut errors = 0;
                        let mut n = c;
                        let mut k = 0u32;
                        while n < total {
                            let due = start
                                + interval * k
                                + interval.mul_f64(c as f64 / connections as f64);
                            let now = Instant::now();
                            if due > now {
                                std::thread::sleep(due - now);
                            }
                            let claim = claims[n % claims.len()].replacen(
                                "\"id\":\"",
                                &format!("\"id\":\"L{n}-"),
                                1,
                            );
                            let status =
                                post(&mut conn, &url, "/v1/claims/evaluate", claim.as_bytes());
                            if status >= 500 {
                                errors += 1;
                            }
                            latencies.push(due.elapsed());
                            n += connections;
                            k += 1;
                        }
                        (latencies, errors)
                    })
                })
                .collect();
            let mut all = Vec::new();
            let mut errors = 0;
            for t in threads {
                let (l, e) = t.join().unwrap();
                all.extend(l);
                errors += e;
            }
            let took = start.elapsed().as_secs_f64();
            all.sort();
            println!(
                "single: {} requests in {took:.2} s ({:.0} req/s, target {rate:.0}), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, 5xx {errors}",
                all.len(),
                all.len() as f64 / took,
                percentile(&all, 0.50),
                percentile(&all, 0.99),
                percentile(&all, 1.0),
            );
        }
        "batch" => {
            let rounds: usize = args[4].parse().unwrap();
            let disjoint = args.get(5).is_some_and(|a| a == "disjoint");
            let started = Instant::now();
            let threads: Vec<_> = urls
                .iter()
                .enumerate()
                .map(|(u, url)| {
                    let url = url.clone();
                    let claims = claims.clone();
                    std::thread::spawn(move || {
                        let mut conn = connect(&url);
                        for r in 0..rounds {
                            let body: String = claims
                                .iter()
                                .map(|c| {
                                    let c =
                                        c.replacen("\"id\":\"", &format!("\"id\":\"B{u}-{r}-"), 1);
                                    let c = if disjoint {
                                        c.replace(
                                            "\"patient\":{\"id\":\"",
                                            &format!("\"patient\":{{\"id\":\"U{u}-"),
                                        )
                                    } else {
                                        c
                                    };
                                    c + "\n"
                                })
                                .collect();
                            let status = post(&mut conn, &url, "/v1/claims/batch", body.as_bytes());
                            assert_eq!(status, 200);
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            let took = started.elapsed().as_secs_f64();
            let n = claims.len() * rounds * urls.len();
            println!(
                "batch: {n} claims in {took:.2} s ({:.0} claims/s)",
                n as f64 / took
            );
        }
        _ => panic!("mode: single or batch"),
    }
}
