pragma circom 2.1.0;

// circomlib's Num2Bits: the range check that keeps each number below 2^32.
include "circomlib/circuits/bitify.circom";

// The sum of N private numbers, each below 2^32 (so that the sum cannot wrap around the
// field), as the public output `sum`. `request` is a public input: it binds the proof to the
// request that asked for it (snarkjs's setup constrains every public input, so a proof made for
// one request does not verify for another).
template Sum(N) {
    signal input numbers[N];
    signal input request;
    signal output sum;

    component inRange[N];
    var total = 0;
    for (var i = 0; i < N; i++) {
        inRange[i] = Num2Bits(32);
        inRange[i].in <== numbers[i];
        total += numbers[i];
    }
    sum <== total;
}

component main {public [request]} = Sum(4);
