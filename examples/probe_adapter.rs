fn main() {
    let a = etaprobe::gpu::enumerate_adapters();
    for ad in &a {
        println!(
            "{:?}\n{:?}\n{:?}",
            ad.get_info(),
            ad.features(),
            ad.get_downlevel_capabilities()
        );
    }
}
