//! Bias add and its gradient, the column sums of the incoming gradient.

use crate::common::{assert_close, f32s, gpu, random, rng, tol};
use crate::reference as cpu;
use etaprobe::gpu::Program;
use etaprobe::ops::bias;

#[test]
fn bias_forward_and_backward() {
    let gpu = gpu();
    let mut r = rng(3);
    for &(rows, cols) in &[(1, 1), (1, 10), (37, 5), (300, 129)] {
        let x = random(&mut r, rows * cols, 2.0);
        let bv = random(&mut r, cols, 2.0);
        let xt = gpu.upload("x", &[rows * cols], &f32s(&x)).unwrap();
        let bt = gpu.upload("b", &[cols], &f32s(&bv)).unwrap();
        let db0 = random(&mut r, cols, 1.0);
        let dbt = gpu.upload("db", &[cols], &f32s(&db0)).unwrap();
        let dbt2 = gpu.zeros("db2", &[cols]).unwrap();
        let mut prog = Program::new();
        bias::forward(&mut prog, gpu, &xt, &bt, rows, cols).unwrap();
        // The gradient of a bias is the column sum of its incoming gradient (here x).
        bias::backward(&mut prog, gpu, &xt, &dbt, rows, cols, true).unwrap();
        bias::backward(&mut prog, gpu, &xt, &dbt2, rows, cols, false).unwrap();
        prog.run(gpu).unwrap();
        let y = cpu::bias_add(&x, &bv, rows, cols);
        assert_close(
            &gpu.read::<f32>(&xt).unwrap(),
            &y,
            tol::ELEMENTWISE,
            "bias forward",
        );
        let sums = cpu::column_sums(&y, rows, cols);
        let acc: Vec<f64> = sums.iter().zip(&db0).map(|(a, b)| a + b).collect();
        assert_close(
            &gpu.read::<f32>(&dbt).unwrap(),
            &acc,
            tol::LONG_SUMS,
            "bias backward accumulate",
        );
        assert_close(
            &gpu.read::<f32>(&dbt2).unwrap(),
            &sums,
            tol::LONG_SUMS,
            "bias backward",
        );
    }
}
