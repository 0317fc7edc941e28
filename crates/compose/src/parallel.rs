//! Work on many agents spread over the machine's cores, results kept in order. Rendering 1000 agents
//! is building and writing some 3000 independent objects; two cores halve the wall time.

/// Below this many documents (checking or writing them) a thread costs more than it saves.
pub const DOCUMENTS_PER_THREAD: usize = 192;

/// The most threads [`in_chunks`] runs at once: the cores this process may use, read once, so that
/// what is sized by it (the plugin runtime's instance pool) always fits.
pub fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `work` over consecutive chunks of `items` (at least `min_chunk` items each) on up to all
/// cores, and returns the results in the order of the chunks.
pub fn in_chunks<T: Sync, R: Send>(items: &[T], min_chunk: usize, work: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let threads = threads().min(items.len() / min_chunk.max(1)).max(1);
    if threads == 1 {
        return vec![work(items)];
    }
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> =
            items.chunks(items.len().div_ceil(threads)).map(|c| scope.spawn(move || work(c))).collect();
        workers.into_iter().map(|w| w.join().expect("a render thread panicked")).collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_of_the_items() {
        let items: Vec<u32> = (0..10_000).collect();
        let doubled: Vec<u32> = super::in_chunks(&items, 16, |c| c.iter().map(|i| i * 2).collect::<Vec<_>>()).concat();
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(super::in_chunks(&items[..3], 16, <[u32]>::len), vec![3]);
    }
}
