use std::collections::BTreeMap;
#[test]
fn zz_py() {
    let w: Vec<f32> = (0..6 * 3 * 25).map(|i| i as f32 * 0.25 - 3.0).collect();
    let b = vec![1.5f32, -2.0, 0.0, f32::INFINITY, -0.0, 7.0];
    let fc: Vec<f32> = (0..10 * 84).map(|i| (i as f32).sin()).collect();
    let t = vec![
        ("conv1.weight".to_string(), vec![6, 3, 5, 5], &w[..]),
        ("conv1.bias".to_string(), vec![6], &b[..]),
        ("fc3.weight".to_string(), vec![10, 84], &fc[..]),
    ];
    let m = etaprobe::train::checkpoint::TrainingMeta { lr: 0.0123, step: 42, epoch: 1, seed: 7, schedule_state: serde_json::json!({"k": 1}) };
    etaprobe::train::checkpoint::save("/tmp/pyck.safetensors", &t, m.to_metadata()).unwrap();
    let _ = BTreeMap::<String, String>::new();
}
