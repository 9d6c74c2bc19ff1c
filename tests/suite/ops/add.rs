//! The residual add (with the fused ReLU, in place and plain) and its backward, on views
//! surrounded by sentinels.

use super::{place, place_zeros, weighted};
use crate::common::{assert_close, fd, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::{Gpu, Program};
use etaprobe::ops::{add, relu};

#[test]
fn residual_add_forward_and_backward_match_reference() {
    // y = relu(a + b): the backward is relu::backward against y, to both summands.
    let gpu = gpu();
    // 1000 takes the vec4 kernel (ending inside an invocation's four vec4s), 999 the
    // scalar one.
    for len in [1000, 999] {
        residual_add_case(gpu, len);
    }
}

fn residual_add_case(gpu: &Gpu, len: usize) {
    let mut g = rng(902);
    let a = random(&mut g, len, 1.0);
    let b = random(&mut g, len, 1.0);
    let r = random(&mut g, len, 1.0);
    let sum = cpu::axpy(1.0, &a, &b);
    for relu_on in [false, true] {
        let want = if relu_on {
            cpu::relu(&sum)
        } else {
            sum.clone()
        };
        let (at, bt) = (place(gpu, "a", &a), place(gpu, "b", &b));
        let yt = place_zeros(gpu, "y", len);
        let acc = place(gpu, "acc", &b);
        let mut prog = Program::new();
        add::forward(&mut prog, gpu, &at.view, &bt.view, &yt.view, relu_on).unwrap();
        add::accumulate_relu(&mut prog, gpu, &at.view, &acc.view, relu_on).unwrap();
        prog.run(gpu).unwrap();
        assert_close(
            &yt.read(gpu),
            &want,
            tol::ONE_ROUNDING,
            &format!("add relu {relu_on}"),
        );
        assert_close(
            &acc.read(gpu),
            &want,
            tol::ONE_ROUNDING,
            &format!("add in place relu {relu_on}"),
        );
    }
    let plain = place(gpu, "plain", &b);
    let at = place(gpu, "a", &a);
    let mut prog = Program::new();
    add::accumulate(&mut prog, gpu, &at.view, &plain.view).unwrap();
    prog.run(gpu).unwrap();
    assert_close(&plain.read(gpu), &sum, tol::ONE_ROUNDING, "y += x");

    let (at, bt, rt) = (
        place(gpu, "a", &a),
        place(gpu, "b", &b),
        place(gpu, "r", &r),
    );
    let yt = place_zeros(gpu, "y", len);
    let dy = place_zeros(gpu, "dy", len);
    let mut prog = Program::new();
    add::forward(&mut prog, gpu, &at.view, &bt.view, &yt.view, true).unwrap();
    relu::backward(&mut prog, gpu, &yt.view, &rt.view, &dy.view, false).unwrap();
    prog.run(gpu).unwrap();
    let got = dy.read(gpu);
    let fd_a = fd::gradient(&a, |a| weighted(&r, &cpu::relu(&cpu::axpy(1.0, a, &b))));
    let fd_b = fd::gradient(&b, |b| weighted(&r, &cpu::relu(&cpu::axpy(1.0, &a, b))));
    assert_close(&got, &fd_a, tol::SHORT_CHAIN, "add dL/da");
    assert_close(&got, &fd_b, tol::SHORT_CHAIN, "add dL/db");
}
