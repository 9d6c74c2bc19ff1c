// Softmax cross-entropy over a batch of logits [rows, classes] with integer labels.
// forward writes each row's loss (log-sum-exp minus the label's logit, max-shifted so large
// logits cannot overflow) and whether its arg-max equals the label; the host or the reduce
// kernel sums them. backward writes dlogits = scale·(softmax − onehot), scale = g/rows.

// Rows past `label_period` reuse the labels from the start: the five probes of one batch
// are stacked as 5·B rows sharing B labels.
struct Params { rows: u32, classes: u32, scale: f32, label_period: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;
@group(0) @binding(4) var<storage, read_write> correct: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

fn row_max(base: u32) -> f32 {
    var m = logits[base];
    for (var j = 1u; j < p.classes; j++) {
        m = max(m, logits[base + j]);
    }
    return m;
}

fn row_log_sum_exp(base: u32, m: f32) -> f32 {
    var s = 0.0;
    for (var j = 0u; j < p.classes; j++) {
        s += exp(logits[base + j] - m);
    }
    return m + log(s);
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= p.rows) {
        return;
    }
    let base = r * p.classes;
    let m = row_max(base);
    let label = min(labels[r % p.label_period], p.classes - 1u);
    losses[r] = row_log_sum_exp(base, m) - logits[base + label];
    // The first maximal class is the prediction, as argmax does.
    var best = 0u;
    for (var j = 1u; j < p.classes; j++) {
        if (logits[base + j] > logits[base + best]) {
            best = j;
        }
    }
    correct[r] = select(0.0, 1.0, best == label);
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= p.rows) {
        return;
    }
    let base = r * p.classes;
    let lse = row_log_sum_exp(base, row_max(base));
    let label = labels[r % p.label_period];
    for (var j = 0u; j < p.classes; j++) {
        let prob = exp(logits[base + j] - lse);
        dlogits[base + j] = p.scale * (prob - select(0.0, 1.0, j == label));
    }
}
