//! Streams lines through a pool of worker threads and writes the results in input order.
//!
//! The reader takes a slot in a fixed window before it reads a line, and the writer frees the
//! slot once that line's result is written: at most `window` lines are held anywhere at once,
//! however uneven the work, so memory is bounded by the window and never by the input (each
//! line held keeps the block it was read into: at most `window` blocks, or lines as long). Work
//! that waits on the network returns a future for the tokio runtime, which hands its CPU part
//! back to the pool with [`Pool::run`].

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::ops::{Deref, Range};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use tokio::runtime::Handle;

/// A line's result still to come: it waits on the network, then prints this string.
pub type Later = Pin<Box<dyn Future<Output = String> + Send>>;

/// What a line turned into.
pub enum Step {
    /// The output line, made on the worker.
    Done(String),
    /// A future that finishes the line on the runtime.
    Later(Later),
}

/// The work done on each non-blank input line.
pub trait LineWork: Send + Sync + 'static {
    /// Turns input line `number` (1-based, its bytes as read, the newline included) into its
    /// output line, now or after waiting.
    fn line(&self, number: usize, raw: LineBytes, pool: &Pool) -> Step;

    /// The output line of a line that could not be processed, saying `why`.
    fn failed(&self, number: usize, why: &str) -> String;
}

/// How many threads and how many lines in flight.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Worker threads for the CPU work.
    pub workers: usize,
    /// Lines read but not yet written, at most.
    pub window: usize,
    /// Longer input lines are skipped with an error line instead of being held in memory.
    pub max_line_bytes: usize,
    /// The input is read in blocks of this size (larger for a longer line).
    pub block_bytes: usize,
}

/// A job for a worker thread.
type Job = Box<dyn FnOnce() + Send>;

/// The worker threads' queue; [`Pool::run`] gives them CPU work from async code.
#[derive(Clone)]
pub struct Pool {
    jobs: Sender<Job>,
}

/// The work panicked; the panic message went to stderr.
#[derive(Debug)]
pub struct Panicked;

impl Pool {
    /// Runs `work` on a worker thread and waits for its result without blocking the runtime.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Panicked> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(work)));
        });
        self.jobs.send(job).map_err(|_| Panicked)?;
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            _ => Err(Panicked),
        }
    }
}

/// A counting semaphore over the lines in flight; closing it stops the reader.
struct Window {
    state: Mutex<(usize, bool)>,
    freed: Condvar,
    size: usize,
}

impl Window {
    fn new(size: usize) -> Self {
        Window {
            state: Mutex::new((0, false)),
            freed: Condvar::new(),
            size: size.max(1),
        }
    }

    /// Waits for a free slot; `false` once the window is closed.
    fn acquire(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.0 >= self.size && !state.1 {
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.1 {
            return false;
        }
        state.0 += 1;
        true
    }

    /// Frees a slot; the reader is woken once half the window is free, so it reads lines in
    /// runs instead of waking for each.
    fn release(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 = state.0.saturating_sub(1);
        if state.0 <= self.size / 2 {
            self.freed.notify_one();
        }
    }

    fn close(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
        self.freed.notify_all();
    }
}

/// Runs `work` over every non-blank line of `input` and writes one line per input line to
/// `output`, in input order; returns when the input ends and every result is written.
pub fn run<W: LineWork>(
    input: impl Read + Send,
    mut output: impl Write,
    work: Arc<W>,
    options: Options,
    runtime: Handle,
) -> io::Result<()> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Mutex::new(queue);
    let (done, results) = mpsc::channel::<(usize, String)>();
    let window = Window::new(options.window);
    std::thread::scope(|scope| {
        for _ in 0..options.workers.max(1) {
            scope.spawn(|| work_until_closed(&queue));
        }
        let reader = {
            let (window, work) = (&window, Arc::clone(&work));
            let pool = Pool { jobs };
            scope.spawn(move || read(input, options, window, &work, &pool, &done, &runtime))
        };
        let written = write_in_order(&results, &mut output, &window);
        if written.is_err() {
            window.close();
        }
        drop(results);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the reader stopped")));
        written.and(read)
    })
}

/// A worker: runs jobs until every sender of the queue is gone.
fn work_until_closed(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// The reader: one slot of the window per line, then the line goes to the pool.
fn read<W: LineWork>(
    input: impl Read,
    options: Options,
    window: &Window,
    work: &Arc<W>,
    pool: &Pool,
    done: &Sender<(usize, String)>,
    runtime: &Handle,
) -> io::Result<()> {
    let mut lines = Lines::new(input, options.max_line_bytes, options.block_bytes);
    let mut number = 0;
    let mut seq = 0;
    loop {
        let Some(line) = lines.next_line()? else {
            return Ok(());
        };
        number += 1;
        if let RawLine::Whole(raw) = &line
            && raw.trim_ascii().is_empty()
        {
            continue;
        }
        if !window.acquire() {
            return Ok(());
        }
        match line {
            RawLine::TooLong => {
                let why = format!("is longer than {} bytes", options.max_line_bytes);
                let _ = done.send((seq, work.failed(number, &why)));
            }
            RawLine::Whole(raw) => {
                let job = line_job(number, seq, raw, work, pool, done, runtime);
                if pool.jobs.send(job).is_err() {
                    return Ok(());
                }
            }
        }
        seq += 1;
    }
}

/// An input line's bytes (its newline included when it has one): a slice of the block it was
/// read into, which the lines of that block share.
pub struct LineBytes {
    block: Arc<Vec<u8>>,
    range: Range<usize>,
}

impl Deref for LineBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.block[self.range.clone()]
    }
}

/// An input line as the reader found it.
enum RawLine {
    /// The line's bytes.
    Whole(LineBytes),
    /// Longer than the limit: skipped to its end without being kept.
    TooLong,
}

/// Cuts the input into lines without copying them: the input is read into blocks, and a line
/// is a slice of its block, found with `memchr`. Only the start of a line that runs past the
/// end of a block is copied, to the start of the next one. A block whose lines are all done is
/// read into again, so it is neither allocated nor cleared again.
struct Lines<R> {
    input: R,
    max_bytes: usize,
    block_bytes: usize,
    /// The block lines are cut from; `block[..filled]` has been read.
    block: Arc<Vec<u8>>,
    filled: usize,
    /// Where the next line starts, and how far it has been searched for a newline.
    start: usize,
    searched: usize,
    /// Blocks whose lines may still be in use, to be read into again once they are not.
    given: Vec<Arc<Vec<u8>>>,
    /// The input has ended.
    ended: bool,
}

impl<R: Read> Lines<R> {
    fn new(input: R, max_bytes: usize, block_bytes: usize) -> Self {
        Lines {
            input,
            max_bytes,
            block_bytes: block_bytes.max(1),
            block: Arc::new(Vec::new()),
            filled: 0,
            start: 0,
            searched: 0,
            given: Vec::new(),
            ended: false,
        }
    }

    /// The next line; `None` at the end of the input.
    fn next_line(&mut self) -> io::Result<Option<RawLine>> {
        let mut too_long = false;
        loop {
            let unsearched = &self.block[self.searched..self.filled];
            if let Some(i) = memchr::memchr(b'\n', unsearched) {
                let end = self.searched + i + 1;
                let range = self.start..end;
                (self.start, self.searched) = (end, end);
                // measured without its newline
                return Ok(Some(if too_long || range.len() - 1 > self.max_bytes {
                    RawLine::TooLong
                } else {
                    RawLine::Whole(LineBytes {
                        block: Arc::clone(&self.block),
                        range,
                    })
                }));
            }
            self.searched = self.filled;
            if self.filled - self.start > self.max_bytes {
                // no need to keep what is read of it
                too_long = true;
                (self.start, self.searched) = (self.filled, self.filled);
            }
            if self.ended {
                let range = self.start..self.filled;
                (self.start, self.searched) = (self.filled, self.filled);
                return Ok(match (too_long, range.is_empty()) {
                    (true, _) => Some(RawLine::TooLong),
                    (false, true) => None,
                    (false, false) => Some(RawLine::Whole(LineBytes {
                        block: Arc::clone(&self.block),
                        range,
                    })),
                });
            }
            self.read_more()?;
        }
    }

    /// Reads once more into the block, after the line being read; when the block is full or
    /// its earlier lines are still in use, that line's start moves to another block first.
    fn read_more(&mut self) -> io::Result<()> {
        let partial = self.filled - self.start;
        let full = self.filled == self.block.len();
        if full || Arc::get_mut(&mut self.block).is_none() {
            // a line longer than a block doubles it, so it is copied only so many times
            let mut next = self.free_block(2 * partial);
            next[..partial].copy_from_slice(&self.block[self.start..self.filled]);
            let old = std::mem::replace(&mut self.block, Arc::new(next));
            if old.len() <= self.block_bytes {
                self.given.push(old);
            }
            (self.filled, self.searched, self.start) = (partial, partial, 0);
        }
        let Some(block) = Arc::get_mut(&mut self.block) else {
            return Err(io::Error::other("the input block is shared"));
        };
        loop {
            match self.input.read(&mut block[self.filled..]) {
                Ok(0) => self.ended = true,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            return Ok(());
        }
    }

    /// A block of at least `len` bytes that no line uses: one given out before whose lines
    /// are done, else a new one. Other blocks no line uses are let go.
    fn free_block(&mut self, len: usize) -> Vec<u8> {
        let len = len.max(self.block_bytes);
        let free = self
            .given
            .iter()
            .position(|block| Arc::strong_count(block) == 1 && block.len() >= len)
            .map(|i| self.given.swap_remove(i))
            .and_then(|block| Arc::try_unwrap(block).ok());
        self.given.retain(|block| Arc::strong_count(block) > 1);
        free.unwrap_or_else(|| vec![0; len])
    }
}

/// The job of one line: its work on a worker, or on the runtime when it must wait.
fn line_job<W: LineWork>(
    number: usize,
    seq: usize,
    raw: LineBytes,
    work: &Arc<W>,
    pool: &Pool,
    done: &Sender<(usize, String)>,
    runtime: &Handle,
) -> Job {
    let (work, pool, done, runtime) = (
        Arc::clone(work),
        pool.clone(),
        done.clone(),
        runtime.clone(),
    );
    Box::new(
        move || match catch_unwind(AssertUnwindSafe(|| work.line(number, raw, &pool))) {
            Ok(Step::Done(out)) => {
                let _ = done.send((seq, out));
            }
            Ok(Step::Later(future)) => {
                let task = runtime.spawn(future);
                runtime.spawn(async move {
                    let out = task
                        .await
                        .unwrap_or_else(|_| work.failed(number, "could not be processed"));
                    let _ = done.send((seq, out));
                });
            }
            Err(_) => {
                let _ = done.send((seq, work.failed(number, "could not be processed")));
            }
        },
    )
}

/// The writer: holds early results until the lines before them are written; flushes
/// whenever it has to wait, so a slow stream still shows each result as soon as it can.
fn write_in_order(
    results: &Receiver<(usize, String)>,
    output: &mut impl Write,
    window: &Window,
) -> io::Result<()> {
    let mut early = BTreeMap::new();
    let mut next = 0;
    loop {
        let (seq, line) = match results.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => {
                output.flush()?;
                match results.recv() {
                    Ok(result) => result,
                    Err(_) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        early.insert(seq, line);
        while let Some(line) = early.remove(&next) {
            output.write_all(line.as_bytes())?;
            output.write_all(b"\n")?;
            next += 1;
            window.release();
        }
    }
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Echoes each line; a line `sleep N` waits N ms first, `panic` panics, and `fetch N`
    /// waits N ms on the runtime, then upper-cases its line on the pool.
    struct Echo;

    impl LineWork for Echo {
        fn line(&self, _number: usize, raw: LineBytes, pool: &Pool) -> Step {
            let raw = String::from_utf8_lossy(&raw).trim_end().to_owned();
            if let Some(ms) = raw.strip_prefix("sleep ") {
                std::thread::sleep(Duration::from_millis(ms.parse().unwrap_or(0)));
            }
            if raw == "panic" {
                panic!("a bad line");
            }
            if let Some(ms) = raw.strip_prefix("fetch ") {
                let ms = ms.parse().unwrap_or(0);
                let pool = pool.clone();
                return Step::Later(Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    pool.run(move || raw.to_uppercase())
                        .await
                        .unwrap_or_default()
                }));
            }
            Step::Done(raw)
        }

        fn failed(&self, number: usize, why: &str) -> String {
            format!("line {number} {why}")
        }
    }

    fn options(window: usize) -> Options {
        Options {
            workers: 3,
            window,
            max_line_bytes: 64,
            block_bytes: 16,
        }
    }

    fn run_echo(input: &str, options: Options) -> String {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .expect("runtime");
        let mut out = Vec::new();
        run(
            input.as_bytes(),
            &mut out,
            Arc::new(Echo),
            options,
            runtime.handle().clone(),
        )
        .expect("run");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn uneven_work_comes_out_in_input_order() {
        let input = ["sleep 60", "a", "fetch 30", "sleep 20", "b", "fetch 1", "c"].join("\n");
        let out = run_echo(&input, options(4));
        assert_eq!(
            out, "sleep 60\na\nFETCH 30\nsleep 20\nb\nFETCH 1\nc\n",
            "{out}"
        );
    }

    #[test]
    fn a_panicking_or_overlong_line_in_the_middle_gets_its_error_and_the_rest_goes_on() {
        let long = "x".repeat(200);
        let input = format!("a\npanic\n\n{long}\nb\nfetch 5\n");
        let out = run_echo(&input, options(2));
        assert_eq!(
            out,
            "a\nline 2 could not be processed\nline 4 is longer than 64 bytes\nb\nFETCH 5\n"
        );
    }

    /// Gives at most `.1` bytes per read, as a pipe does.
    struct Trickle<'a>(&'a [u8], usize);

    impl io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// The lines of `input` read `read` bytes at a time into blocks of `block`, each line
    /// kept until the end when `keep` (so its block cannot be read into again).
    fn lines_of(input: &str, read: usize, block: usize, keep: bool) -> Vec<String> {
        let mut lines = Lines::new(Trickle(input.as_bytes(), read), 64, block);
        let (mut out, mut kept) = (Vec::new(), Vec::new());
        while let Some(line) = lines.next_line().expect("read") {
            out.push(match &line {
                RawLine::Whole(bytes) => String::from_utf8(bytes.to_vec()).expect("UTF-8"),
                RawLine::TooLong => "too long".to_owned(),
            });
            if keep {
                kept.push(line);
            }
        }
        out
    }

    #[test]
    fn lines_are_cut_at_newlines_across_reads_and_blocks_and_measured_without_their_newline() {
        let (a, b, c) = ("a".repeat(64), "b".repeat(63), "c".repeat(65));
        let input = format!("{a}\n{b}\r\n{c}\n\n{c}\nlast\nx\ny\n\nz");
        let expected = [
            format!("{a}\n"),
            format!("{b}\r\n"),
            "too long".to_owned(),
            "\n".to_owned(),
            "too long".to_owned(),
            "last\n".to_owned(),
            "x\n".to_owned(),
            "y\n".to_owned(),
            "\n".to_owned(),
            "z".to_owned(),
        ];
        for read in [1, 5, 64, 65, 66, 1 << 10] {
            for block in [1, 3, 64, 200, 1 << 12] {
                for keep in [false, true] {
                    let lines = lines_of(&input, read, block, keep);
                    assert_eq!(lines, expected, "read {read}, block {block}, keep {keep}");
                }
            }
        }
        assert_eq!(lines_of(&a, 7, 4, true), [a]);
        assert_eq!(lines_of(&c, 7, 4, true), ["too long"]);
        assert!(lines_of("", 7, 4, true).is_empty());
    }

    #[test]
    fn blocks_whose_lines_are_done_are_read_into_again() {
        let input = "0123456789\n".repeat(1_000);
        let mut lines = Lines::new(input.as_bytes(), 64, 100);
        let mut count = 0;
        while let Some(RawLine::Whole(line)) = lines.next_line().expect("read") {
            assert_eq!(&*line, b"0123456789\n");
            count += 1;
            drop(line);
            assert!(lines.given.len() <= 1, "{} blocks kept", lines.given.len());
        }
        assert_eq!(count, 1_000);
    }

    /// Hands out `total` lines one at a time and records how far it ran ahead of the writer.
    struct CountingInput {
        total: usize,
        read: Arc<AtomicUsize>,
        written: Arc<AtomicUsize>,
        most_ahead: Arc<AtomicUsize>,
        line: Vec<u8>,
        pos: usize,
    }

    impl io::Read for CountingInput {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            self.consume(n);
            Ok(n)
        }
    }

    impl BufRead for CountingInput {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            if self.pos == self.line.len() {
                let read = self.read.load(Ordering::SeqCst);
                if read == self.total {
                    return Ok(&[]);
                }
                let ahead = read + 1 - self.written.load(Ordering::SeqCst);
                self.most_ahead.fetch_max(ahead, Ordering::SeqCst);
                self.read.store(read + 1, Ordering::SeqCst);
                self.line = format!("{read}\n").into_bytes();
                self.pos = 0;
            }
            Ok(&self.line[self.pos..])
        }

        fn consume(&mut self, n: usize) {
            self.pos += n;
        }
    }

    /// A slow consumer: counts the lines written.
    struct SlowOutput(Arc<AtomicUsize>);

    impl Write for SlowOutput {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let lines = buf.iter().filter(|&&b| b == b'\n').count();
            if lines > 0 {
                std::thread::sleep(Duration::from_micros(200));
                self.0.fetch_add(lines, Ordering::SeqCst);
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_reader_never_runs_more_than_the_window_ahead_of_the_writer() {
        let (read, written, most_ahead) = Default::default();
        let input = CountingInput {
            total: 3_000,
            read: Arc::clone(&read),
            written: Arc::clone(&written),
            most_ahead: Arc::clone(&most_ahead),
            line: Vec::new(),
            pos: 0,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let window = 8;
        run(
            input,
            SlowOutput(Arc::clone(&written)),
            Arc::new(Echo),
            options(window),
            runtime.handle().clone(),
        )
        .expect("run");
        assert_eq!(written.load(Ordering::SeqCst), 3_000);
        // The line being read is one past the window's lines in flight.
        let ahead = most_ahead.load(Ordering::SeqCst);
        assert!(ahead <= window + 1, "the reader ran {ahead} lines ahead");
    }

    #[test]
    fn a_closed_output_stops_the_reader() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let input = "a\n".repeat(100_000);
        let err = run(
            input.as_bytes(),
            Closed,
            Arc::new(Echo),
            options(4),
            runtime.handle().clone(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
