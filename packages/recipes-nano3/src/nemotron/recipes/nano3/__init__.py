"""The Nemotron Nano 3 recipe: data prep, pretrain, SFT and RL stages."""
