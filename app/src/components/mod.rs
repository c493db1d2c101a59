pub mod chart;
pub mod failure;
pub mod form;
pub mod history_kept;
pub mod live;
pub mod shell;
pub mod tabs;
